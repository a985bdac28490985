#pragma once
// The counters one worker publishes (one writer per slot, relaxed atomics, no locks). Lives in
// a worker's shm slot; the worker writes it, fastforkctl and /metrics read it.

#include <atomic>
#include <cstdint>

namespace fastfork::shm {

using counter = std::atomic<std::uint64_t>;
static_assert(counter::is_always_lock_free, "stats need lock-free 64-bit atomics");

/// Single-writer increment: a plain load + store is enough (and cheaper than a locked add)
/// because only the slot's own worker ever writes it; readers see a consistent 64-bit value.
inline void add(counter& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void sub(counter& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}
inline void set(counter& c, std::uint64_t v) noexcept { c.store(v, std::memory_order_relaxed); }
inline std::uint64_t get(const counter& c) noexcept { return c.load(std::memory_order_relaxed); }

/// Why a connection was refused at admission.
enum class refusal : std::uint8_t { max_connections, per_ip, concurrency, count_ };
/// Which timeout cut a connection.
enum class timeout_kind : std::uint8_t { header, body, write, idle, count_ };

/// Every counter a worker keeps. Names are the stats keys everywhere (STYLE.md §2).
struct worker_counters {
    counter connections_accepted;
    counter connections_active;   // gauge: open connections
    counter connections_idle;     // gauge: open connections with no request in progress
    counter connections_refused[static_cast<int>(refusal::count_)];
    counter accept_errors;        // EMFILE/ENFILE and friends
    counter requests;
    counter responses_by_class[5];  // 1xx..5xx
    counter bytes_in;
    counter bytes_out;
    counter parse_errors;           // requests rejected by the parser or body reader
    counter timeouts[static_cast<int>(timeout_kind::count_)];
    counter handler_exceptions;
    counter fibers_live;      // gauge
    counter fibers_idle;      // gauge
    counter fibers_created;
    counter fibers_freed;
    counter ctx_pool_hits;
    counter ctx_pool_misses;
    counter buffer_pool_hits;
    counter buffer_pool_misses;
};

}  // namespace fastfork::shm
