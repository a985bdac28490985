#pragma once
// The settings of one worker process. Filled in by master/config.cpp (or by the flags of
// `fastfork --single-process`); read by every part of worker/.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/limits.hpp"

namespace fastfork::worker {

using millis = std::chrono::milliseconds;

/// One entry of the `routes` config key: a path prefix and what serves it, exactly one of
/// `handler` and `root` (checked by worker/router.hpp check_route_spec).
struct route_spec {
    std::string prefix;   // "/static/", "/plaintext", "/": matched per path segment, longest first
    std::string handler;  // a built-in: plaintext, json, sleep, healthz, metrics, stats, welcome
    std::string root;     // a directory of static files, served with the prefix stripped
};

/// Line format of the access log (worker/access_log.hpp).
enum class log_format : std::uint8_t { combined, json };

struct options {
    // ---- goroutine-style worker pool (fasthttp: Concurrency, MaxIdleWorkerDuration) ----
    std::size_t concurrency = 256 * 1024;     // fibers at most; a request finding none gets 503
    std::size_t stack_size = 64 * 1024;       // bytes per fiber stack, plus one guard page
    millis max_idle_worker_duration{10'000};  // an idle fiber older than this is freed

    // ---- admission ----
    std::size_t max_connections = 100'000;    // open connections per worker; over it: 503 and close
    std::size_t max_conns_per_ip = 0;         // 0 = unlimited; over it: 429 and close
    std::uint64_t max_requests_per_conn = 0;  // 0 = unlimited; the last one gets Connection: close

    // ---- timeouts ----
    millis header_timeout{10'000};   // from the first byte of a request to the end of its head → 408
    millis read_timeout{30'000};     // longest gap between body reads → 408
    millis write_timeout{30'000};    // longest a pending write may make no progress → close
    millis idle_timeout{75'000};     // keep-alive connection with nothing in flight → close
    millis linger_timeout{2'000};    // after our FIN, how long we keep reading before close
    millis drain_idle_grace{1'000};  // while draining: idle connections older than this are closed

    // ---- protocol ----
    http::limits limits;
    bool normalize_header_names = true;    // content-type → Content-Type (fasthttp default)
    std::string server_name = "fastfork";  // Server header; empty = not sent
    std::size_t read_buffer_size = 4096;   // initial read buffer; grows up to limits.max_head for the head

    // ---- built-in stats routes (worker/builtin_routes.cpp) ----
    std::string metrics_path = "/metrics";  // Prometheus text of the instance; empty = off
    std::string stats_path = "/stats";      // the JSON of `fastforkctl stats --json`; empty = off

    // ---- routes (worker/router.cpp) ----
    std::vector<route_spec> routes;  // empty = the default table (worker/router.hpp default_routes)

    // ---- access log (worker/access_log.cpp) ----
    std::string access_log;  // file, opened O_APPEND by each worker; empty = off
    log_format access_log_format = log_format::combined;

    // ---- gzip of dynamic responses (worker/compression.cpp) ----
    bool gzip = true;
    std::size_t gzip_min_length = 1024;  // smaller bodies are sent as they are
    int gzip_level = 5;                  // zlib level 1 (fastest) .. 9 (smallest)

    // ---- static files (worker/file_server.cpp) ----
    std::string root;                         // document root; empty = ./public if it exists, else the welcome page
    bool autoindex = false;                   // list a directory that has no index.html (else 403)
    bool follow_symlinks = false;             // false: a file whose real path leaves root is refused (403)
    bool precompressed = true;                // serve file.br / file.gz to clients that accept them
    std::size_t open_file_cache_size = 1000;  // cached open files + metadata per worker; 0 = no cache
    millis open_file_cache_ttl{1'000};        // a cached entry is re-checked on disk after this

    // ---- identity ----
    unsigned slot = 0;  // worker slot number (names the worker in /healthz)
    std::uint64_t generation = 0;
};

}  // namespace fastfork::worker
