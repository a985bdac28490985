#pragma once
// Per-worker pool of byte buffers that calibrates itself to observed sizes (the idea of
// fasthttp's bytebufferpool): new buffers start at the most common size class, buffers that grew
// far beyond it are freed on release, and idle buffers are capped and trimmed over time so a
// burst's memory goes back to the system (worker).

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "http/byte_buffer.hpp"
#include "shm/counters.hpp"
#include "worker/idle_stack.hpp"

namespace fastfork::worker {

class buffer_pool {
public:
    /// `initial_size` is the default capacity until the first calibration. Reserves room for
    /// `lim.max_idle_count` free-list entries up front, so release() never allocates.
    buffer_pool(std::size_t initial_size, shm::counter& hits, shm::counter& misses, const pool_limits& lim = {});
    ~buffer_pool();
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    /// An empty buffer with at least the calibrated default capacity: the most recently
    /// released one, else a new one. Never returns nullptr: exhaustion aborts the worker
    /// (STYLE.md rule 6), and the master respawns it.
    [[nodiscard]] http::byte_buffer* acquire();
    /// Takes `b` back (the caller's pointer is dead after this) and records its capacity for
    /// calibration. Pools it when it is at most max_size() and the pool stays within its count
    /// and byte caps; frees it otherwise.
    /// Inline, with everything but the common case out of line: it runs twice per keep-alive
    /// request, and as a call of its own its register saves cost as much as its work.
    [[gnu::always_inline]] void release(http::byte_buffer* b) noexcept {
        const std::size_t cap = b->capacity();
        ++class_calls_[class_of(cap)];
        if (++calls_ >= calibrate_every || !fits(cap)) [[unlikely]] {
            release_slow(b);
            return;
        }
        b->clear();
        pooled_bytes_ += cap;
        free_.push(b, now_ms_);
    }

    /// Frees pooled buffers released at least `max_idle_ms` before `now_ms`, coldest first, and
    /// advances the pool's clock: releases are stamped with the `now_ms` of the latest call, so
    /// trimming is accurate to one call period (the server's sweep, at most 250 ms). The first
    /// call only starts the clock. Returns the bytes freed.
    std::size_t trim_idle(std::uint64_t now_ms) noexcept;

    [[nodiscard]] std::size_t default_size() const noexcept { return default_size_; }
    /// Largest capacity that is pooled: the 95th percentile class of released capacities once
    /// calibrated, 16 × the initial size before.
    [[nodiscard]] std::size_t max_size() const noexcept { return max_size_; }
    [[nodiscard]] std::size_t pooled() const noexcept { return free_.size(); }
    /// Sum of the pooled buffers' capacities.
    [[nodiscard]] std::size_t pooled_bytes() const noexcept { return pooled_bytes_; }

private:
    static constexpr std::size_t min_class_bits = 6;  // 64 B
    static constexpr std::size_t class_count = 20;    // up to 32 MiB
    static constexpr std::size_t calibrate_every = 42000;
    static constexpr std::size_t oversize_factor = 16;  // "far beyond the default" before calibration

    void calibrate() noexcept;
    /// release() when calibration is due or `b` does not fit (its class is counted already).
    void release_slow(http::byte_buffer* b) noexcept;
    /// An outlier (one huge head or body) must not pin its memory, and a burst must not leave
    /// more idle memory behind than the caps allow: such buffers go back to malloc at once.
    [[nodiscard]] bool fits(std::size_t cap) const noexcept {
        return cap <= max_size_ && free_.size() < limits_.max_idle_count &&
               pooled_bytes_ + cap <= limits_.max_idle_bytes;
    }
    static std::size_t class_of(std::size_t capacity) noexcept {
        const std::size_t bits = capacity <= 1 ? 0 : std::bit_width(capacity - 1);
        const std::size_t c = bits > min_class_bits ? bits - min_class_bits : 0;
        return c < class_count - 1 ? c : class_count - 1;
    }

    idle_stack<http::byte_buffer> free_;
    pool_limits limits_;
    std::array<std::uint32_t, class_count> class_calls_{};
    std::uint32_t calls_ = 0;
    std::size_t default_size_;
    std::size_t max_size_;
    std::size_t pooled_bytes_ = 0;
    std::uint64_t now_ms_ = 0;  // the latest trim_idle time; 0 = the clock has not started
    shm::counter& hits_;
    shm::counter& misses_;
};

}  // namespace fastfork::worker
