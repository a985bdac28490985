#pragma once
// Per-worker pool of byte buffers that calibrates itself to observed sizes (the idea of
// fasthttp's bytebufferpool): new buffers start at the most common size class, and buffers that
// grew beyond the 95th percentile are freed on release instead of pinning memory.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "http/byte_buffer.hpp"
#include "shm/counters.hpp"

namespace fastfork::worker {

class buffer_pool {
public:
    /// `initial_size` is the default capacity until the first calibration.
    buffer_pool(std::size_t initial_size, shm::counter& hits, shm::counter& misses);
    ~buffer_pool();
    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    /// An empty buffer with at least the calibrated default capacity. Never returns nullptr:
    /// exhaustion aborts the worker (STYLE.md rule 6), and the master respawns it.
    [[nodiscard]] http::byte_buffer* acquire();
    /// Returns `b` (emptied) to the pool; records its capacity for calibration.
    void release(http::byte_buffer* b) noexcept;

    [[nodiscard]] std::size_t default_size() const noexcept { return default_size_; }
    [[nodiscard]] std::size_t max_size() const noexcept { return max_size_; }
    [[nodiscard]] std::size_t pooled() const noexcept { return free_.size(); }

private:
    static constexpr std::size_t min_class_bits = 6;  // 64 B
    static constexpr std::size_t class_count = 20;    // up to 32 MiB
    static constexpr std::size_t calibrate_every = 42000;

    void calibrate() noexcept;

    std::vector<http::byte_buffer*> free_;
    std::array<std::uint32_t, class_count> class_calls_{};
    std::uint32_t calls_ = 0;
    std::size_t default_size_;
    std::size_t max_size_;
    shm::counter& hits_;
    shm::counter& misses_;
};

}  // namespace fastfork::worker
