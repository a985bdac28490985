#include "worker/buffer_pool.hpp"

#include <algorithm>
#include <bit>
#include <numeric>

namespace fastfork::worker {

namespace {
std::size_t class_of(std::size_t capacity, std::size_t min_bits, std::size_t count) noexcept {
    std::size_t bits = capacity <= 1 ? 0 : std::bit_width(capacity - 1);
    std::size_t c = bits > min_bits ? bits - min_bits : 0;
    return std::min(c, count - 1);
}
}  // namespace

buffer_pool::buffer_pool(std::size_t initial_size, shm::counter& hits, shm::counter& misses)
    : default_size_(initial_size), max_size_(std::size_t{1} << 20), hits_(hits), misses_(misses) {
    free_.reserve(1024);
}

buffer_pool::~buffer_pool() {
    for (auto* b : free_) delete b;
}

http::byte_buffer* buffer_pool::acquire() {
    if (!free_.empty()) {
        http::byte_buffer* b = free_.back();
        free_.pop_back();
        shm::add(hits_);
        return b;
    }
    shm::add(misses_);
    auto* b = new http::byte_buffer();
    b->reserve(default_size_);
    return b;
}

void buffer_pool::release(http::byte_buffer* b) noexcept {
    std::size_t cap = b->capacity();
    ++class_calls_[class_of(cap, min_class_bits, class_count)];
    if (++calls_ >= calibrate_every) calibrate();
    b->clear();
    if (cap > max_size_) {
        // An outlier (one huge body) must not pin its memory in the pool for the worker's life.
        b->release_storage();
    }
    free_.push_back(b);
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
