#include "worker/buffer_pool.hpp"

#include <algorithm>
#include <numeric>

namespace fastfork::worker {

buffer_pool::buffer_pool(std::size_t initial_size, shm::counter& hits, shm::counter& misses, const pool_limits& lim)
    : limits_(lim),
      default_size_(initial_size),
      max_size_(std::max<std::size_t>(initial_size, 64) * oversize_factor),
      hits_(hits),
      misses_(misses) {
    // Reserved whole, so release() never allocates; pages nobody touches cost no memory.
    free_.reserve(limits_.max_idle_count);
}

buffer_pool::~buffer_pool() {
    free_.clear([](http::byte_buffer* b) { delete b; });
}

http::byte_buffer* buffer_pool::acquire() {
    if (!free_.empty()) {
        http::byte_buffer* b = free_.pop();
        pooled_bytes_ -= b->capacity();
        shm::add(hits_);
        return b;
    }
    shm::add(misses_);
    auto* b = new http::byte_buffer();
    b->reserve(default_size_);
    return b;
}

void buffer_pool::release_slow(http::byte_buffer* b) noexcept {
    if (calls_ >= calibrate_every) calibrate();  // first: the new max_size() applies to `b`
    const std::size_t cap = b->capacity();
    if (!fits(cap)) {
        delete b;
        return;
    }
    b->clear();
    pooled_bytes_ += cap;
    free_.push(b, now_ms_);
}

std::size_t buffer_pool::trim_idle(std::uint64_t now_ms) noexcept {
    if (now_ms_ == 0) {
        // Buffers released before the clock started count as released now.
        free_.restamp(now_ms);
        now_ms_ = now_ms;
        return 0;
    }
    now_ms_ = now_ms;
    std::size_t freed = 0;
    free_.trim(now_ms, limits_.max_idle_ms, [&](http::byte_buffer* b) {
        freed += b->capacity();
        delete b;
    });
    pooled_bytes_ -= freed;
    return freed;
}

void buffer_pool::calibrate() noexcept {
    // The default is the most frequent size class; the cap is the class that covers 95 % of
    // releases (bytebufferpool's calibrate()).
    std::uint64_t total = std::accumulate(class_calls_.begin(), class_calls_.end(), std::uint64_t{0});
    std::size_t best = 0;
    for (std::size_t i = 1; i < class_count; ++i)
        if (class_calls_[i] > class_calls_[best]) best = i;
    std::uint64_t covered = 0;
    std::size_t cap_class = class_count - 1;
    for (std::size_t i = 0; i < class_count; ++i) {
        covered += class_calls_[i];
        if (covered * 100 >= total * 95) {
            cap_class = i;
            break;
        }
    }
    default_size_ = std::size_t{1} << (best + min_class_bits);
    max_size_ = std::max(default_size_, std::size_t{1} << (cap_class + min_class_bits));
    class_calls_.fill(0);
    calls_ = 0;
}

}  // namespace fastfork::worker
