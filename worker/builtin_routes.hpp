#pragma once
// The routes `fastfork` serves on its own (worker): /plaintext and /json (the benchmark
// surface), /sleep?ms=N (suspends the fiber), /healthz (names the worker), /metrics (Prometheus)
// and /stats (JSON) of the whole instance (paths: options metrics_path, stats_path), 404 for the rest.

#include <string_view>

#include "http/request_ctx.hpp"

namespace fastfork::worker {

/// One built-in route's handler: answers whatever path it is called for.
using builtin_fn = void (*)(http::request_ctx&);

/// The built-in handler named `name` ("plaintext", "json", "sleep", "healthz", "metrics",
/// "stats"), or nullptr. The router mounts these at the prefixes of the `routes` config key;
/// "metrics" and "stats" render the instance as described below, whatever their path.
[[nodiscard]] builtin_fn find_builtin(std::string_view name) noexcept;

/// Answers the built-in routes; /healthz reports on server::current(). /metrics and /stats render
/// shm::current_segment() (every worker of the instance, and exited ones in the totals); without
/// a segment (`fastfork --single-process`) they render this server's own counters, as one
/// worker, instance "single-process".
class builtin_routes {
public:
    /// Handles the request if its path is a built-in route; returns false (ctx untouched) otherwise.
    bool try_handle(http::request_ctx& ctx) const;
    /// try_handle, then 404.
    void operator()(http::request_ctx& ctx) const;
};

}  // namespace fastfork::worker
