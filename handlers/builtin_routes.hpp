#pragma once
// The routes `fastfork` serves on its own (worker): /plaintext and /json (the benchmark
// surface), /sleep?ms=N (suspends the fiber), /healthz (names the worker), /metrics (Prometheus)
// and /stats (JSON) of the whole instance, /dashboard (the live HTML page over /stats; paths:
// options metrics_path, stats_path, dashboard_path), 404 for the rest.
// The status routes among them are for `status_allow` peers only (handlers/status_access.hpp).

#include <cstdint>
#include <string_view>

#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// One built-in route's handler: answers whatever path it is called for.
using builtin_fn = void (*)(http::request_ctx&);

/// Who may be answered by a built-in. Every entry of the table says it: a route that shows the
/// instance's statistics is declared `status`, and the router mounts it behind the
/// `status_allow` check, so it cannot be published by forgetting a check in its body.
enum class builtin_access : std::uint8_t {
    everyone,  // plaintext, json, sleep; healthz (it shows its details only to status peers)
    status,    // metrics, stats, dashboard: others get 403 (handlers/status_access.hpp refuse_status)
};

struct builtin_route {
    std::string_view name;
    builtin_fn fn;
    builtin_access access;
};

/// The built-in named `name` ("plaintext", "json", "sleep", "healthz", "metrics", "stats",
/// "dashboard" (handlers/dashboard.hpp)), or nullptr. The router mounts these at the prefixes of the `routes` config
/// key (or of default_routes). "healthz" reports on worker::server::current() — to a peer outside `status_allow` only
/// {"status":"ok"}; "metrics" and "stats" render shm::current_segment() (every worker of the instance, and exited ones
/// in the totals), or without a segment
/// (`fastfork --single-process`) this server's own counters, as one worker, instance
/// "single-process".
[[nodiscard]] const builtin_route* find_builtin(std::string_view name) noexcept;

/// Whether the built-in `name` reads its request body itself (ctx.body_stream()): "echo".
[[nodiscard]] constexpr bool builtin_streams_body(std::string_view name) noexcept {
    return name == "echo";
}

}  // namespace fastfork::handlers
