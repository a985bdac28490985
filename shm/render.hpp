#pragma once
// Renders stats snapshots (fastforkctl stats/status, a worker's /metrics and /stats): a text
// table, JSON with stable keys, and the Prometheus text exposition format (version 0.0.4).
// Pure functions of snapshots; no I/O.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "shm/counter_fields.hpp"
#include "shm/snapshot.hpp"

namespace fastfork::shm {

/// Every counter field, in layout order (counter_table, as a span).
[[nodiscard]] std::span<const counter_field> counter_fields() noexcept;

/// Percentiles reported everywhere: p50, p90, p99, p99.9 (JSON keys "p50", "p90", "p99", "p999").
struct latency_summary {
    std::uint64_t count = 0;
    double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0;
    double sum_us = 0;
};
[[nodiscard]] latency_summary summarize(const histogram_values& h) noexcept;

/// Formats a duration given in ns with a readable unit: "812ns", "15.2us", "3.41ms", "1.20s".
[[nodiscard]] std::string format_duration_ns(double ns);

/// The stats table (`fastforkctl stats`): an instance line, one row per live worker process,
/// a `retired` row and a `total` row. With `prev` (an earlier snapshot of the same instance)
/// and `interval_s` > 0, adds req/s per row (workers matched by pid) and shows the percentiles
/// of the interval instead of the lifetime ones (`fastforkctl stats --watch`).
[[nodiscard]] std::string render_table(const snapshot& s, const snapshot* prev = nullptr, double interval_s = 0);

/// The status text (`fastforkctl status`): master pid, uptime, generation, last reload, and per
/// worker: pid, state, generation, heartbeat age, restarts. Says STALE when the master is dead.
[[nodiscard]] std::string render_status(const snapshot& s);

/// JSON (`fastforkctl stats --json`, GET /stats), one object with these stable keys:
///   instance, master_pid, stale, consistent, layout_version, start_time_ms, uptime_s,
///   generation, workers_configured, stopping, restarts, reloads_ok, reloads_failed,
///   last_reload {count, ok (true|false|null), message},
///   workers [{slot, pid, state, worker_index, generation, start_time_ms, heartbeat_age_ms,
///             restarts, <every counter>, latency_us}],
///   retired {<every counter>, latency_us}, totals {<every counter>, latency_us}.
/// A scalar counter is a number; an array counter is an object keyed by its label values
/// (responses_by_class {"1xx".."5xx"}, responses_by_status {"400",...}, connections_refused,
/// timeouts, parse_errors_by_kind {"bad_request_line",...}). latency_us is
/// {count, p50, p90, p99, p999, sum} in microseconds; the totals' latency_us also has `buckets`,
/// every non-empty histogram bucket as [midpoint µs, count] in ascending order (lifetime counts:
/// the difference of two snapshots is the histogram of the time between them). Ends with a newline.
[[nodiscard]] std::string render_json(const snapshot& s);

/// Prometheus text format 0.0.4 (GET /metrics, `fastforkctl stats --prometheus`):
///   - every counter as `fastfork_<name>_total` and every gauge as `fastfork_<name>`, one series
///     per worker index (label worker="<index>", 0..N-1, stable across restarts and reloads):
///     a counter is the index's exited processes (snapshot::retired_by_index) plus its live
///     ones (two during a reload), so each series is monotonic for the life of the instance
///     and a sum over `worker` is the instance total (except processes of an index >=
///     index_capacity, whose counts leave their series when they exit); a gauge sums the
///     index's live processes; array counters add their label (class, status, reason, kind);
///   - instance gauges and counters: fastfork_stale, fastfork_start_time_seconds,
///     fastfork_generation, fastfork_workers, fastfork_restarts_total,
///     fastfork_reloads_total{result}, fastfork_last_reload_success, and per process
///     fastfork_worker_info{worker,pid,state,generation} 1,
///     fastfork_worker_heartbeat_age_seconds{worker}, fastfork_worker_restarts_total{worker};
///   - the instance's request latency (all processes, exited ones included) as the histogram
///     fastfork_request_duration_seconds with cumulative `le` buckets from 1 µs to 60 s
///     (a log bucket is counted under the first boundary at or above its midpoint), _sum, _count.
[[nodiscard]] std::string render_prometheus(const snapshot& s);

/// The `le` boundaries (seconds) of fastfork_request_duration_seconds, ascending (+Inf not included).
[[nodiscard]] std::span<const double> prometheus_latency_bounds() noexcept;

/// The Content-Type of render_prometheus' output.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace fastfork::shm
