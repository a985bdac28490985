#pragma once
// The latency clock of one worker loop (worker): one CLOCK_MONOTONIC read per answered request,
// plus at most one per loop iteration, instead of one at each parsed head and one at each
// answer (issue 11.2).
//
// A request's latency runs from its parsed head to its serialized response. The end needs a
// fresh reading (the handler's own time is in it). The start does not: when a head is parsed,
// the latest reading taken since the loop last waited is as good as a new one, because nothing
// but this iteration's callbacks ran since. In a pipelined batch that is the previous
// response's end; in an iteration that serves several connections, the previous connection's.
// Only the first head of an iteration reads the clock for its start.
//
// What must never happen is a reading carried across the loop's wait (epoll_wait can block
// for seconds): a uv_prepare handle, run by libuv right before each poll, forgets it. A
// suspended handler (ctx.sleep, run_blocking, a slow write) resumes in a later iteration, so
// its end is read fresh and its start is the head's reading from before the wait: a request
// that sleeps 200 ms records about 200 ms.

#include <uv.h>

#include <cstdint>

#include "shm/clock.hpp"

namespace fastfork::worker {

class loop_clock {
public:
    loop_clock() = default;
    loop_clock(const loop_clock&) = delete;
    loop_clock& operator=(const loop_clock&) = delete;

    /// Starts forgetting before each poll of `loop`. The handle does not keep the loop alive.
    void attach(uv_loop_t* loop) noexcept {
        uv_prepare_init(loop, &before_poll_);
        before_poll_.data = this;
        uv_prepare_start(&before_poll_, [](uv_prepare_t* h) { static_cast<loop_clock*>(h->data)->forget(); });
        uv_unref(reinterpret_cast<uv_handle_t*>(&before_poll_));
    }

    /// CLOCK_MONOTONIC (ns) no older than this loop iteration's callbacks: the latest reading
    /// when one was taken since the loop last waited, else a fresh one. For latency starts.
    [[nodiscard]] std::uint64_t recent_ns() noexcept {
        if (!fresh_) return now_ns();
        return last_ns_;
    }

    /// CLOCK_MONOTONIC (ns) read now; later recent_ns() calls in this iteration reuse it.
    [[nodiscard]] std::uint64_t now_ns() noexcept {
        last_ns_ = shm::monotonic_ns();
        fresh_ = true;
        ++reads_;
        return last_ns_;
    }

    /// The loop is about to wait: the reading is stale from here on.
    void forget() noexcept { fresh_ = false; }

    /// Clock reads so far (tests prove the count per request with it).
    [[nodiscard]] std::uint64_t reads() const noexcept { return reads_; }

private:
    uv_prepare_t before_poll_{};
    std::uint64_t last_ns_ = 0;
    bool fresh_ = false;
    std::uint64_t reads_ = 0;
};

}  // namespace fastfork::worker
