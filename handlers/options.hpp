#pragma once
// The settings of the features above the runtime (worker process): routes, built-in status
// routes, static files, gzip and the access log. Filled in by master/config.cpp (or by the flags
// of `fastfork --single-process`); read by every part of handlers/.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/address_list.hpp"

namespace fastfork::handlers {

using millis = std::chrono::milliseconds;

/// One entry of the `routes` config key: a path prefix and what serves it, exactly one of
/// `handler` and `root` (checked by handlers/router.hpp check_route_spec).
struct route_spec {
    std::string prefix;   // "/static/", "/plaintext", "/": matched per path segment, longest first
    std::string handler;  // a built-in: plaintext, json, sleep, healthz, metrics, stats, dashboard, welcome
    std::string root;     // a directory of static files, served with the prefix stripped
    // WebSocket routes only (handler ws_echo): allowed Origin values (empty: any) and the
    // subprotocols offered, in preference order (worker/websocket_session.hpp websocket_route).
    std::vector<std::string> origins;
    std::vector<std::string> subprotocols;
};

/// Line format of the access log (handlers/access_log.hpp): combined_timed is combined plus
/// nginx's $request_time (seconds, millisecond resolution) as the last field.
enum class log_format : std::uint8_t { combined, json, combined_timed };

struct options {
    // ---- built-in stats routes (handlers/builtin_routes.cpp) ----
    std::string metrics_path = "/metrics";      // Prometheus text of the instance; empty = off
    std::string stats_path = "/stats";          // the JSON of `fastforkctl stats --json`; empty = off
    std::string dashboard_path = "/dashboard";  // the live HTML page polling stats_path; empty = off
    // Who may see the instance's statistics (handlers/status_access.hpp): this host only unless
    // told otherwise, since a public /metrics tells anyone the traffic and the worker layout.
    http::address_list status_allow = http::address_list::loopback();

    // ---- routes (handlers/router.cpp) ----
    std::vector<route_spec> routes;  // empty = the default table (handlers/router.hpp default_routes)

    // ---- access log (handlers/access_log.cpp) ----
    std::string access_log;  // file, opened O_APPEND by each worker; empty = off
    log_format access_log_format = log_format::combined;

    // ---- gzip of dynamic responses (handlers/compression.cpp) ----
    bool gzip = true;
    std::size_t gzip_min_length = 1024;  // smaller bodies are sent as they are
    int gzip_level = 5;                  // zlib level 1 (fastest) .. 9 (smallest)
    // Most gzip bytes of static files a worker's open-file cache keeps (handlers/file_server.hpp);
    // not a config key: the default bounds 1000 entries, tests shrink it to prove the bound.
    std::size_t gzip_cache_budget = 32 * 1024 * 1024;

    // ---- static files (handlers/file_server.cpp) ----
    std::string root;                         // document root; empty = ./public if it exists, else the welcome page
    bool autoindex = false;                   // list a directory that has no index.html (else 403)
    bool follow_symlinks = false;             // false: a file whose real path leaves root is refused (403)
    bool precompressed = true;                // serve file.br / file.gz to clients that accept them
    std::size_t open_file_cache_size = 1000;  // cached open files + metadata per worker; 0 = no cache
    millis open_file_cache_ttl{1'000};        // a cached entry is re-checked on disk after this
};

}  // namespace fastfork::handlers
