#include "shm/snapshot.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>

#include "shm/clock.hpp"
#include "shm/segment.hpp"
#include "shm/text.hpp"

namespace fastfork::shm {

namespace {

// A fold takes the master microseconds; a sequence that stays odd this long belongs to a
// master that died while writing, and the reader takes what it has instead of hanging.
constexpr int max_attempts = 2000;
constexpr int spins_before_sleep = 16;

void back_off(int attempt) noexcept {
    if (attempt < spins_before_sleep) return;
    timespec ts{0, 50'000};  // 50 µs
    ::nanosleep(&ts, nullptr);
}

void read_reload_result(const segment_header& h, reload_snapshot& out) {
    char message[message_capacity];
    for (int attempt = 0; attempt < max_attempts; ++attempt, back_off(attempt)) {
        const std::uint64_t s1 = h.reload_seq.load(std::memory_order_acquire);
        if (s1 % 2 != 0) continue;
        out.count = h.reload_count.load(std::memory_order_relaxed);
        out.ok = h.reload_ok.load(std::memory_order_relaxed);
        // The message is plain chars written under the sequence lock; a torn copy is discarded
        // by the sequence check below (the copy itself is the seqlock's accepted benign race).
        std::memcpy(message, h.reload_message, sizeof message);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (h.reload_seq.load(std::memory_order_relaxed) == s1) break;
    }
    // Any byte may be in the segment (a torn read, an old master, a stray writer): the copy is
    // escaped into valid UTF-8 so that no renderer can fail on it (issue 16.2).
    out.message = escape_text(std::string_view(message, ::strnlen(message, sizeof message)));
}

void read_slot(const worker_slot& ws, std::size_t index, std::uint64_t mono_now, worker_snapshot& w) {
    w.slot = index;
    w.pid = ws.pid.load(std::memory_order_relaxed);
    w.state = static_cast<worker_state>(ws.state.load(std::memory_order_relaxed));
    w.worker_index = ws.worker_index.load(std::memory_order_relaxed);
    w.generation = ws.generation.load(std::memory_order_relaxed);
    w.start_time_ms = ws.start_time_ms.load(std::memory_order_relaxed);
    const std::uint64_t beat = ws.heartbeat_ms.load(std::memory_order_relaxed);
    w.heartbeat_age_ms = mono_now > beat ? mono_now - beat : 0;
    w.restarts = ws.restarts.load(std::memory_order_relaxed);
    load_counters(ws.counters, w.counters);
    w.latency.load(ws.latency);
}

}  // namespace

double snapshot::uptime_s() const noexcept {
    return start_time_ms != 0 && taken_at_ms > start_time_ms ? static_cast<double>(taken_at_ms - start_time_ms) / 1000.0
                                                             : 0.0;
}

void add_counters(counter_values& into, const counter_values& from, bool gauges) noexcept {
    auto* dst = reinterpret_cast<std::uint64_t*>(&into);
    const auto* src = reinterpret_cast<const std::uint64_t*>(&from);
    for (std::size_t i = 0; i < counter_cells; ++i)
        if (gauges || !is_gauge_cell(i)) dst[i] += src[i];
}

snapshot take_snapshot(const segment_layout& seg, std::string_view instance) {
    const segment_header& h = seg.header;
    snapshot s;
    s.instance = escape_text(instance);  // a /dev/shm file name may be any bytes
    s.layout_version = h.version;
    s.master_pid = h.master_pid.load(std::memory_order_relaxed);
    s.stale = !is_process_alive(static_cast<long>(s.master_pid));
    s.start_time_ms = h.start_time_ms.load(std::memory_order_relaxed);
    s.generation = h.generation.load(std::memory_order_relaxed);
    s.workers_configured = h.workers.load(std::memory_order_relaxed);
    s.stopping = h.stopping.load(std::memory_order_relaxed) != 0;
    s.restarts = h.restarts.load(std::memory_order_relaxed);
    s.reloads_ok = h.reloads_ok.load(std::memory_order_relaxed);
    s.reloads_failed = h.reloads_failed.load(std::memory_order_relaxed);
    for (std::size_t r = 0; r < recycle_reason_count; ++r)
        s.recycles[r] = seg.events.recycles[r].load(std::memory_order_relaxed);
    read_reload_result(h, s.last_reload);

    const std::size_t capacity = std::min<std::size_t>(h.capacity, slot_capacity);
    s.consistent = false;
    for (int attempt = 0; attempt < max_attempts && !s.consistent; ++attempt, back_off(attempt)) {
        const std::uint64_t s1 = h.fold_seq.load(std::memory_order_acquire);
        if (s1 % 2 != 0 && attempt + 1 < max_attempts) continue;  // the last attempt reads anyway
        s.taken_at_ms = realtime_ms();
        s.taken_mono_ns = monotonic_ns();
        const std::uint64_t mono_now = s.taken_mono_ns / 1'000'000;
        load_counters(h.retired, s.retired);
        s.retired_by_index.resize(
            std::min<std::size_t>(h.retired_indexes.load(std::memory_order_relaxed), index_capacity));
        for (std::size_t i = 0; i < s.retired_by_index.size(); ++i)
            load_counters(seg.retired_by_index[i].counters, s.retired_by_index[i]);
        s.retired_latency.load(h.retired_latency);
        std::size_t n = 0;
        for (std::size_t i = 0; i < capacity; ++i) {
            const worker_slot& ws = seg.slots[i];
            // An unused slot is read no further than these two words: of its 16 KiB in the
            // sparse segment, only the first page is ever faulted in.
            if (ws.state.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(worker_state::empty) &&
                ws.pid.load(std::memory_order_relaxed) == 0)
                continue;
            if (n == s.workers.size()) s.workers.emplace_back();
            read_slot(ws, i, mono_now, s.workers[n++]);
        }
        s.workers.resize(n);
        // Seqlock read side (Boehm, "Can seqlocks get along with programming language memory
        // models?"): the acquire fence orders the relaxed data loads before the re-check.
        std::atomic_thread_fence(std::memory_order_acquire);
        s.consistent = s1 % 2 == 0 && h.fold_seq.load(std::memory_order_relaxed) == s1;
    }

    s.totals = s.retired;
    s.total_latency = s.retired_latency;
    for (const auto& w : s.workers) {
        add_counters(s.totals, w.counters, /*gauges=*/true);
        s.total_latency.merge(w.latency);
    }
    return s;
}

snapshot take_local_snapshot(const worker_counters& counters,
                             const latency_histogram& latency,
                             std::string_view instance) {
    snapshot s;
    s.instance = std::string(instance);
    s.layout_version = layout_version;
    s.master_pid = ::getpid();
    s.taken_at_ms = realtime_ms();
    s.taken_mono_ns = monotonic_ns();
    s.workers_configured = 1;
    worker_snapshot w;
    w.pid = s.master_pid;
    w.state = worker_state::ready;
    load_counters(counters, w.counters);
    w.latency.load(latency);
    s.totals = w.counters;
    s.total_latency = w.latency;
    s.workers.push_back(std::move(w));
    return s;
}

}  // namespace fastfork::shm
