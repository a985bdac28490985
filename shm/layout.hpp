#pragma once
// The stats segment's ABI (master creates it, workers write their slots, fastforkctl and
// /metrics read it): a versioned header, then one cache-line-aligned slot per worker process.
// Every field a reader looks at is a lock-free atomic; each slot has exactly one writer at a time.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shm/counters.hpp"
#include "shm/histogram.hpp"

namespace fastfork::shm {

inline constexpr std::uint64_t segment_magic = 0x4b524f4654534146ull;  // "FASTFORK" little-endian
// 2: latency histograms, status and parse-error kinds; 3: retired counters per worker index;
// 4: recycles by reason, and each slot's note (why its process could not start); 5: streamed
// responses, the WebSocket block and the TLS block.
inline constexpr std::uint32_t layout_version = 5;
/// Process slots: enough for the largest worker count twice over (old and new generation live
/// side by side during a reload), plus headroom for SIGTTIN.
inline constexpr std::size_t slot_capacity = 256;
inline constexpr std::size_t message_capacity = 256;
/// Worker indexes whose exited processes' counters are kept apart (retired_by_index): a worker
/// index always has a process slot while it runs, so slot_capacity is enough.
inline constexpr std::size_t index_capacity = slot_capacity;

/// Lifecycle of one worker process, as shown by `fastforkctl status`.
enum class worker_state : std::uint32_t { empty = 0, starting = 1, ready = 2, draining = 3, exited = 4 };

[[nodiscard]] constexpr const char* to_string(worker_state s) noexcept {
    switch (s) {
        case worker_state::empty:
            return "empty";
        case worker_state::starting:
            return "starting";
        case worker_state::ready:
            return "ready";
        case worker_state::draining:
            return "draining";
        case worker_state::exited:
            return "exited";
    }
    return "unknown";
}

/// One worker process. The master fills the identity before the worker starts and after it has
/// exited; in between only the worker writes (state, heartbeat, counters).
struct alignas(128) worker_slot {
    std::atomic<std::int64_t> pid;
    std::atomic<std::uint32_t> state;         // worker_state
    std::atomic<std::uint32_t> worker_index;  // which worker slot (listening sockets) it serves
    std::atomic<std::uint64_t> generation;
    std::atomic<std::uint64_t> start_time_ms;  // wall clock, ms since the epoch
    std::atomic<std::uint64_t> heartbeat_ms;   // CLOCK_MONOTONIC ms, advanced from the worker's loop
    std::atomic<std::uint64_t> restarts;       // restarts of worker_index before this process
    alignas(128) worker_counters counters;
    alignas(128) latency_histogram latency;  // request latency, see worker/connection.cpp serve_one
};

/// Header and master section.
struct alignas(128) segment_header {
    std::uint64_t magic;
    std::uint32_t version;
    std::uint32_t capacity;  // number of worker_slot entries
    std::uint64_t size;      // bytes of the whole segment
    std::atomic<std::int64_t> master_pid;
    std::atomic<std::uint64_t> start_time_ms;  // wall clock
    std::atomic<std::uint64_t> generation;     // newest generation started
    std::atomic<std::uint32_t> workers;        // configured worker count
    std::atomic<std::uint32_t> stopping;       // 1 once shutdown began
    std::atomic<std::uint64_t> restarts;       // unexpected worker exits that were restarted
    std::atomic<std::uint64_t> reloads_ok;
    std::atomic<std::uint64_t> reloads_failed;
    // Last reload result, published with a sequence lock: odd while the master writes.
    std::atomic<std::uint64_t> reload_seq;
    std::atomic<std::uint64_t> reload_count;  // reloads attempted (matches the sequence of results)
    std::atomic<std::int32_t> reload_ok;      // 1 ok, 0 failed, -1 none yet
    char reload_message[message_capacity];
    // Counters of worker processes that have exited, folded in by the master so totals never go
    // down. Readers sum retired + live slots under fold_seq (odd while folding).
    std::atomic<std::uint64_t> fold_seq;
    std::atomic<std::uint32_t> retired_indexes;  // 1 + highest worker index folded (retired_by_index used)
    alignas(128) worker_counters retired;
    alignas(128) latency_histogram retired_latency;  // folded like `retired`, under fold_seq
};

/// Why the master replaced a healthy worker process (max_requests, max_worker_memory,
/// max_worker_age): the label of `recycles` in every renderer.
enum class recycle_reason : std::uint32_t { requests = 0, memory = 1, age = 2 };
inline constexpr std::size_t recycle_reason_count = 3;

[[nodiscard]] constexpr const char* to_string(recycle_reason r) noexcept {
    switch (r) {
        case recycle_reason::requests:
            return "requests";
        case recycle_reason::memory:
            return "memory";
        case recycle_reason::age:
            return "age";
    }
    return "unknown";
}

/// Events only the master counts (layout 4); written by the master alone.
struct alignas(128) master_events {
    std::atomic<std::uint64_t> recycles[recycle_reason_count];  // by recycle_reason
};

/// A worker process's last words (layout 4): the reason it could not start, written by that
/// process right before it exits, read by the master once it has reaped it (so never while
/// written), and cleared when the slot is taken again.
struct slot_note {
    char text[message_capacity];  // NUL-terminated UTF-8 (shm::copy_text)
};

/// The folded counters of one worker index's exited processes (gauges excluded), so the
/// `worker="<index>"` series continues across that index's processes (issue 10.2).
struct alignas(128) retired_index {
    worker_counters counters;
};

struct segment_layout {
    segment_header header;
    worker_slot slots[slot_capacity];
    // After the slots so that header and slot offsets stay those of layout 2; written by the
    // master under header.fold_seq, like header.retired (which stays their sum, for totals).
    retired_index retired_by_index[index_capacity];
    master_events events;                 // layout 4
    slot_note slot_notes[slot_capacity];  // layout 4: slot_notes[i] belongs to slots[i]
};

static_assert(sizeof(worker_slot) % 128 == 0);
static_assert(alignof(segment_layout) == 128);

}  // namespace fastfork::shm
