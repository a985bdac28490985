#pragma once
// The free list shared by the worker's object pools (buffers, exchanges): LIFO reuse so the
// hottest object is taken first, each entry stamped with the time it was released, and trimming
// from the cold end (fasthttp's workerPool.clean, as in fiber_pool::trim_idle). Single-threaded.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fastfork::worker {

/// How much a pool may keep that nobody uses (options: max_idle_worker_duration,
/// pool_max_idle_count, pool_max_idle_bytes).
struct pool_limits {
    std::uint64_t max_idle_ms = 10'000;      // an entry released longer ago than this is freed
    std::size_t max_idle_count = 16 * 1024;  // entries kept at most; a release beyond it frees
    std::size_t max_idle_bytes = 64u << 20;  // bytes kept at most (as the pool counts them)
};

template <class T>
class idle_stack {
public:
    void reserve(std::size_t n) { entries_.reserve(n); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

    /// Pushes `p`, released at `now_ms`. Stamps never decrease from front to back as long as
    /// callers pass a non-decreasing clock, which is what makes the front the coldest entry.
    /// Allocates only when the list outgrows its capacity (a burst beyond every earlier one).
    void push(T* p, std::uint64_t now_ms) { entries_.push_back({p, now_ms}); }

    /// The most recently pushed entry; precondition: !empty().
    [[nodiscard]] T* pop() noexcept {
        T* p = entries_.back().item;
        entries_.pop_back();
        return p;
    }

    /// Removes every entry released at least `max_idle_ms` before `now_ms`, coldest first, and
    /// passes each to `drop`. Returns how many were removed.
    template <class Drop>
    std::size_t trim(std::uint64_t now_ms, std::uint64_t max_idle_ms, Drop&& drop) noexcept {
        std::size_t expired = 0;
        while (expired < entries_.size() && now_ms - entries_[expired].since_ms >= max_idle_ms) ++expired;
        if (expired == 0) return 0;
        for (std::size_t i = 0; i < expired; ++i) drop(entries_[i].item);
        entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(expired));
        return expired;
    }

    /// Stamps every entry with `now_ms` (the pool's clock starts: see buffer_pool::trim_idle).
    void restamp(std::uint64_t now_ms) noexcept {
        for (auto& e : entries_) e.since_ms = now_ms;
    }

    /// Passes every entry to `drop` and empties the list.
    template <class Drop>
    void clear(Drop&& drop) noexcept {
        for (auto& e : entries_) drop(e.item);
        entries_.clear();
    }

private:
    struct entry {
        T* item;
        std::uint64_t since_ms;  // when it was released
    };
    std::vector<entry> entries_;
};

}  // namespace fastfork::worker
