#pragma once
// A consistent plain copy of a stats segment (fastforkctl, and a worker's /metrics and /stats):
// header, last reload result, every live worker slot, and totals = retired + live slots.
// Reading never locks and never writes: the segment may be mapped read-only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shm/counter_fields.hpp"
#include "shm/counters.hpp"
#include "shm/histogram.hpp"
#include "shm/layout.hpp"

namespace fastfork::shm {

/// One worker process as its slot showed it.
struct worker_snapshot {
    std::size_t slot = 0;  // index in segment_layout::slots
    std::int64_t pid = 0;
    worker_state state = worker_state::empty;
    std::uint32_t worker_index = 0;  // which listening-socket slot it serves (the `worker` label)
    std::uint64_t generation = 0;
    std::uint64_t start_time_ms = 0;     // wall clock, ms since the epoch
    std::uint64_t heartbeat_age_ms = 0;  // CLOCK_MONOTONIC now - heartbeat (0 if in the future)
    std::uint64_t restarts = 0;
    counter_values counters{};
    histogram_values latency;
};

/// The last reload's result (header reload_* fields, read under reload_seq).
struct reload_snapshot {
    std::uint64_t count = 0;  // reloads attempted
    std::int32_t ok = -1;     // 1 ok, 0 failed, -1 none yet
    std::string message;
};

struct snapshot {
    std::string instance;  // the name in /fastfork.<name>
    std::int64_t master_pid = 0;
    bool stale = false;      // the master pid is not a live process
    bool consistent = true;  // false: fold_seq never settled (a master died mid-fold)
    std::uint32_t layout_version = 0;
    std::uint64_t start_time_ms = 0;  // master start, wall clock
    std::uint64_t taken_at_ms = 0;    // wall clock when this snapshot was taken
    std::uint64_t taken_mono_ns = 0;  // CLOCK_MONOTONIC, for rates between two snapshots
    std::uint64_t generation = 0;
    std::uint32_t workers_configured = 0;
    bool stopping = false;
    std::uint64_t restarts = 0;
    std::uint64_t reloads_ok = 0;
    std::uint64_t reloads_failed = 0;
    /// Healthy workers replaced by max_requests, max_worker_memory, max_worker_age (recycle_reason).
    std::uint64_t recycles[recycle_reason_count] = {};
    reload_snapshot last_reload;
    std::vector<worker_snapshot> workers;  // slots whose state is not `empty`, by slot number
    counter_values retired{};              // folded counters of exited processes
    /// retired split by worker index (gauges 0): entry i continues the `worker="i"` series
    /// after i's processes exit; size = 1 + the highest index folded so far.
    std::vector<counter_values> retired_by_index;
    histogram_values retired_latency;
    counter_values totals{};  // retired + every live slot (gauges: live slots only)
    histogram_values total_latency;

    /// Seconds since the master started (at `taken_at_ms`); 0 when the start is unknown.
    [[nodiscard]] double uptime_s() const noexcept;
};

/// Copies `seg` into a snapshot named `instance`. Totals are read under the header's fold_seq
/// sequence lock (retried while odd or changed), so a worker's counters are never seen twice
/// (in its slot and already in `retired`) or not at all; the reload result likewise under
/// reload_seq. Retries are bounded: a master that died mid-write leaves `consistent == false`.
/// Never throws except std::bad_alloc.
[[nodiscard]] snapshot take_snapshot(const segment_layout& seg, std::string_view instance);

/// A snapshot of one server without a segment (`fastfork --single-process`): one worker row
/// for this process, totals = its counters, master_pid = this process.
[[nodiscard]] snapshot take_local_snapshot(const worker_counters& counters,
                                           const latency_histogram& latency,
                                           std::string_view instance);

/// Adds the counter cells of `from` into `into`; gauges (is_gauge_cell) too when `gauges` is true.
void add_counters(counter_values& into, const counter_values& from, bool gauges) noexcept;

}  // namespace fastfork::shm
