#include "shm/fold.hpp"

#include <atomic>

#include "shm/counter_fields.hpp"

namespace fastfork::shm {

namespace {

counter* cells_of(worker_counters& c) noexcept {
    return reinterpret_cast<counter*>(&c);
}

// Not shm::add/set, as in fold_histogram: a fold moves values, it does not record new ones, and
// it must behave the same whatever FF_NO_STATS says. An atomic add, because during a binary
// upgrade two masters (old and new) fold into the same header.
void move_into(counter& dst, std::uint64_t v) noexcept {
    dst.fetch_add(v, std::memory_order_relaxed);
}

}  // namespace

void fold_into_retired(segment_layout& seg, std::size_t slot) noexcept {
    segment_header& h = seg.header;
    worker_slot& ws = seg.slots[slot];
    const std::uint32_t index = ws.worker_index.load(std::memory_order_relaxed);
    counter* by_index = index < index_capacity ? cells_of(seg.retired_by_index[index].counters) : nullptr;
    counter* total = cells_of(h.retired);
    counter* from = cells_of(ws.counters);

    // Odd while folding: readers retry, so the counts are in the slot or in retired, never both.
    h.fold_seq.fetch_add(1, std::memory_order_acq_rel);
    for (std::size_t i = 0; i < counter_cells; ++i) {
        if (!is_gauge_cell(i)) {
            const std::uint64_t v = from[i].load(std::memory_order_relaxed);
            move_into(total[i], v);
            if (by_index) move_into(by_index[i], v);
        }
        from[i].store(0, std::memory_order_relaxed);
    }
    fold_histogram(h.retired_latency, ws.latency);
    if (by_index && index >= h.retired_indexes.load(std::memory_order_relaxed))
        h.retired_indexes.store(index + 1, std::memory_order_relaxed);
    ws.pid.store(0, std::memory_order_relaxed);
    ws.state.store(static_cast<std::uint32_t>(worker_state::empty), std::memory_order_relaxed);
    h.fold_seq.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace fastfork::shm
