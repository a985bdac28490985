#pragma once
// Liveness of the workers (master): a worker whose heartbeat in shm stalls is killed (the
// reaper replaces it), systemd's watchdog is fed only while every heartbeat is fresh, and the
// sd_notify STATUS line summarizes the workers once a second.

#include <cstdint>

#include "master/process_table.hpp"
#include "master/sd_notify.hpp"

namespace fastfork::master {

class watchdog {
public:
    /// `notifier` must outlive the watchdog.
    explicit watchdog(sd_notifier& notifier) noexcept : notifier_(notifier) {}

    /// SIGKILLs each worker not told to stop whose heartbeat is older than `limit_ms`, and feeds
    /// systemd's watchdog (WATCHDOG=1) at half its interval while every heartbeat is fresh.
    void check_heartbeats(std::uint64_t now, process_table& procs, std::uint64_t limit_ms) noexcept;

    /// Sends STATUS= ("2/2 workers ready, generation 3, 1234 requests served") at most once a second.
    void update_status(std::uint64_t now,
                       process_table& procs,
                       const shm::segment_header& header,
                       unsigned worker_count,
                       std::uint64_t generation) noexcept;

private:
    sd_notifier& notifier_;
    std::uint64_t last_status_ms_ = 0;
    std::uint64_t last_watchdog_ms_ = 0;
};

}  // namespace fastfork::master
