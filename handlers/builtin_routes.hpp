#pragma once
// The routes `fastfork` serves on its own (worker): /plaintext and /json (the benchmark
// surface), /sleep?ms=N (suspends the fiber), /healthz (names the worker), /metrics (Prometheus)
// and /stats (JSON) of the whole instance, /dashboard (the live HTML page over /stats; paths:
// options metrics_path, stats_path, dashboard_path), 404 for the rest.

#include <string_view>

#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// One built-in route's handler: answers whatever path it is called for.
using builtin_fn = void (*)(http::request_ctx&);

/// The built-in handler named `name` ("plaintext", "json", "sleep", "healthz", "metrics",
/// "stats", "dashboard" (handlers/dashboard.hpp)), or nullptr. The router mounts these at the
/// prefixes of the `routes` config key (or of default_routes). "healthz" reports on worker::server::current();
/// "metrics" and "stats" render shm::current_segment() (every worker of the instance, and exited ones in the totals),
/// or without a segment (`fastfork --single-process`) this server's own counters, as one
/// worker, instance "single-process".
[[nodiscard]] builtin_fn find_builtin(std::string_view name) noexcept;

}  // namespace fastfork::handlers
