#include "master/process_table.hpp"

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "shm/fold.hpp"
#include "shm/segment.hpp"

namespace fastfork::master {

void process_table::attach(shm::segment_layout* layout) noexcept {
    layout_ = layout;
    free_slots_.clear();
    for (unsigned s = shm::slot_capacity; s-- > 0;) free_slots_.push_back(s);
}

void process_table::attach(shm::segment_layout* layout, const std::vector<unsigned>& slots) noexcept {
    layout_ = layout;
    free_slots_.clear();
    for (auto it = slots.rbegin(); it != slots.rend(); ++it)
        if (*it < shm::slot_capacity) free_slots_.push_back(*it);
}

namespace {
bool is_unheld(const shm::worker_slot& ws) noexcept {
    return ws.pid.load(std::memory_order_relaxed) == 0 &&
           ws.state.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(shm::worker_state::empty);
}
}  // namespace

void process_table::adopt_free_slots() noexcept {
    for (unsigned s = shm::slot_capacity; s-- > 0;) {
        if (std::find(free_slots_.begin(), free_slots_.end(), s) != free_slots_.end()) continue;
        if (std::any_of(workers_.begin(), workers_.end(), [s](const worker_proc& w) { return w.slot == s; })) continue;
        if (is_unheld(layout_->slots[s])) free_slots_.insert(free_slots_.begin(), s);
    }
}

std::vector<unsigned> process_table::lend_slots() {
    std::vector<unsigned> out;
    const std::size_t n = free_slots_.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(free_slots_.front());  // the cold end: take_slot() pops from the back
        free_slots_.erase(free_slots_.begin());
    }
    return out;
}

void process_table::take_back(const std::vector<unsigned>& slots) noexcept {
    for (unsigned s : slots) {
        if (s >= shm::slot_capacity) continue;
        auto& ws = layout_->slots[s];
        // A new master killed before it could fold its dead workers leaves their slots behind:
        // fold them here so their requests stay in the totals. A live orphan keeps its slot.
        const auto pid = ws.pid.load(std::memory_order_relaxed);
        if (pid != 0 && !shm::is_process_alive(pid)) shm::fold_into_retired(*layout_, s);
        if (is_unheld(ws)) free_slots_.insert(free_slots_.begin(), s);
    }
}

std::optional<unsigned> process_table::take_slot() noexcept {
    if (free_slots_.empty()) return std::nullopt;
    unsigned s = free_slots_.back();
    free_slots_.pop_back();
    layout_->slot_notes[s].text[0] = '\0';
    return s;
}

std::string process_table::note(unsigned slot) const {
    const char* text = layout_->slot_notes[slot].text;
    return std::string(text, ::strnlen(text, sizeof layout_->slot_notes[slot].text));
}

void process_table::release_slot(unsigned slot) noexcept {
    // The dead process's counters continue under its worker index (shm/fold.hpp), so every
    // exported series stays monotonic for the life of the master.
    shm::fold_into_retired(*layout_, slot);
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
