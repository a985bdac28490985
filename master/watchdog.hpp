#pragma once
// Liveness of the workers (master): a worker whose heartbeat in shm stalls is asked for a
// backtrace of its running fiber (worker/backtrace.hpp), then killed (the reaper replaces it), systemd's watchdog is
// fed only while every heartbeat is fresh, and the sd_notify STATUS line summarizes the workers once a second.

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "master/process_table.hpp"
#include "master/sd_notify.hpp"

namespace fastfork::master {

/// How long a stuck worker has to write its backtrace before it is killed.
inline constexpr std::uint64_t backtrace_grace_ms = 500;

class watchdog {
public:
    /// `notifier` must outlive the watchdog.
    explicit watchdog(sd_notifier& notifier) noexcept : notifier_(notifier) {}

    /// Sends each worker not told to stop whose heartbeat is older than `limit_ms` the backtrace
    /// signal, and SIGKILLs it backtrace_grace_ms later (a later call does it), and feeds
    /// systemd's watchdog (WATCHDOG=1) at half its interval while every heartbeat is fresh.
    void check_heartbeats(std::uint64_t now, process_table& procs, std::uint64_t limit_ms) noexcept;

    /// Sends STATUS= ("2/2 workers ready, generation 3, 1234 requests served") at most once a second.
    void update_status(std::uint64_t now,
                       process_table& procs,
                       const shm::segment_header& header,
                       unsigned worker_count,
                       std::uint64_t generation) noexcept;

private:
    struct pending_kill {
        pid_t pid;
        std::uint64_t at_ms;  // monotonic
    };

    sd_notifier& notifier_;
    std::vector<pending_kill> pending_;  // asked for a backtrace, killed at at_ms
    std::uint64_t last_status_ms_ = 0;
    std::uint64_t last_watchdog_ms_ = 0;
};

}  // namespace fastfork::master
