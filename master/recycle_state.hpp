#pragma once
// Worker recycling in progress (master): which worker is being replaced, by which process, why,
// and until when the replacement may take to be ready (see master/recycling.cpp).

#include <sys/types.h>

#include <cstdint>
#include <random>
#include <string>

#include "shm/layout.hpp"

namespace fastfork::master {

struct recycle_state {
    pid_t old_pid = 0;  // the worker being replaced; 0 = no recycle in progress
    pid_t replacement_pid = 0;
    unsigned index = 0;
    shm::recycle_reason reason = shm::recycle_reason::requests;
    std::string why;                              // "2043 requests (limit 2000)", for the log
    std::uint64_t deadline_ms = 0;                // monotonic; the replacement is not ready by then: give up
    std::uint64_t retry_at_ms = 0;                // after a failed replacement, no new recycle before this
    std::uint64_t next_memory_check_ms = 0;       // /proc/PID/statm is read at most every memory_check_ms
    std::mt19937_64 rng{std::random_device{}()};  // draws max_requests_jitter

    [[nodiscard]] bool is_active() const noexcept { return old_pid != 0; }
    /// Forgets the recycle in progress, keeping the retry time and the random state.
    void clear() noexcept {
        old_pid = 0;
        replacement_pid = 0;
        why.clear();
    }
};

}  // namespace fastfork::master
