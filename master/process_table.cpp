#include "master/process_table.hpp"

#include <signal.h>

#include <algorithm>
#include <iterator>

namespace fastfork::master {

namespace {
// Counters that are gauges describe the live process: they are not folded into the totals.
void fold_counters(shm::worker_counters& into, shm::worker_counters& from) noexcept {
    auto* dst = reinterpret_cast<shm::counter*>(&into);
    auto* src = reinterpret_cast<shm::counter*>(&from);
    constexpr std::size_t n = sizeof(shm::worker_counters) / sizeof(shm::counter);
    const shm::counter* gauges[] = {&from.connections_active, &from.connections_idle, &from.fibers_live,
                                    &from.fibers_idle};
    for (std::size_t i = 0; i < n; ++i) {
        bool gauge = std::find(std::begin(gauges), std::end(gauges), &src[i]) != std::end(gauges);
        if (!gauge) shm::add(dst[i], shm::get(src[i]));
        shm::set(src[i], 0);
    }
}
}  // namespace

void process_table::attach(shm::segment_layout* layout) noexcept {
    layout_ = layout;
    free_slots_.clear();
    for (unsigned s = shm::slot_capacity; s-- > 0;) free_slots_.push_back(s);
}

std::optional<unsigned> process_table::take_slot() noexcept {
    if (free_slots_.empty()) return std::nullopt;
    unsigned s = free_slots_.back();
    free_slots_.pop_back();
    return s;
}

void process_table::release_slot(unsigned slot) noexcept {
    auto& header = layout_->header;
    auto& ws = layout_->slots[slot];
    // Fold the dead process's counters into the totals under a sequence lock, so readers never
    // see them twice or not at all, and totals stay monotonic for the life of the master.
    header.fold_seq.fetch_add(1, std::memory_order_acq_rel);
    fold_counters(header.retired, ws.counters);
    shm::fold_histogram(header.retired_latency, ws.latency);
    ws.pid.store(0, std::memory_order_relaxed);
    ws.state.store(static_cast<std::uint32_t>(shm::worker_state::empty), std::memory_order_relaxed);
    header.fold_seq.fetch_add(1, std::memory_order_acq_rel);
    free_slots_.push_back(slot);
}

std::optional<worker_proc> process_table::remove(pid_t pid) noexcept {
    auto it = std::find_if(workers_.begin(), workers_.end(), [pid](const worker_proc& w) { return w.pid == pid; });
    if (it == workers_.end()) return std::nullopt;
    worker_proc w = *it;
    workers_.erase(it);
    return w;
}

void process_table::stop(worker_proc& w, int sig) noexcept {
    w.stopping = true;
    if (sig != SIGKILL) layout_->slots[w.slot].state.store(static_cast<std::uint32_t>(shm::worker_state::draining));
    ::kill(w.pid, sig);
}

}  // namespace fastfork::master
