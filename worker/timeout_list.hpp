#pragma once
// Intrusive FIFO lists of connections waiting under one timeout (worker). Every member of a list
// has the same timeout and joined at a later or equal time than the one before it, so the list is
// sorted by deadline: a sweep only looks at the front, and joining or leaving is O(1). This
// replaces one uv_timer per connection (a heap operation per state change) with one sweep timer.

#include <cstddef>
#include <cstdint>

namespace fastfork::worker {

class timeout_list;

/// Embedded in whatever waits; `since_ms` is the loop time it joined.
struct timeout_hook {
    timeout_hook* prev = nullptr;
    timeout_hook* next = nullptr;
    timeout_list* list = nullptr;
    std::uint64_t since_ms = 0;

    [[nodiscard]] bool is_linked() const noexcept { return list != nullptr; }
};

class timeout_list {
public:
    explicit timeout_list(std::uint64_t timeout_ms = 0) noexcept : timeout_ms_(timeout_ms) {}
    timeout_list(const timeout_list&) = delete;
    timeout_list& operator=(const timeout_list&) = delete;

    void set_timeout(std::uint64_t ms) noexcept { timeout_ms_ = ms; }
    [[nodiscard]] std::uint64_t timeout() const noexcept { return timeout_ms_; }

    /// Moves `h` to the back of this list (out of any list it was in), stamped `now_ms`.
    void push_back(timeout_hook& h, std::uint64_t now_ms) noexcept {
        unlink(h);
        h.since_ms = now_ms;
        h.list = this;
        h.prev = tail_;
        h.next = nullptr;
        if (tail_)
            tail_->next = &h;
        else
            head_ = &h;
        tail_ = &h;
        ++size_;
    }

    /// Removes `h` from whatever list holds it; no-op when unlinked.
    static void unlink(timeout_hook& h) noexcept {
        timeout_list* l = h.list;
        if (!l) return;
        if (h.prev)
            h.prev->next = h.next;
        else
            l->head_ = h.next;
        if (h.next)
            h.next->prev = h.prev;
        else
            l->tail_ = h.prev;
        h.prev = h.next = nullptr;
        h.list = nullptr;
        --l->size_;
    }

    /// The oldest member whose timeout has passed at `now_ms`, or nullptr.
    [[nodiscard]] timeout_hook* expired(std::uint64_t now_ms) const noexcept {
        return head_ && now_ms - head_->since_ms >= timeout_ms_ ? head_ : nullptr;
    }
    /// The oldest member that has waited at least `ms`, or nullptr (drain uses a shorter grace).
    [[nodiscard]] timeout_hook* older_than(std::uint64_t now_ms, std::uint64_t ms) const noexcept {
        return head_ && now_ms - head_->since_ms >= ms ? head_ : nullptr;
    }
    [[nodiscard]] timeout_hook* front() const noexcept { return head_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

private:
    timeout_hook* head_ = nullptr;
    timeout_hook* tail_ = nullptr;
    std::uint64_t timeout_ms_;
    std::size_t size_ = 0;
};

}  // namespace fastfork::worker
