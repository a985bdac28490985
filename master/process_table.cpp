#include "master/process_table.hpp"

#include <signal.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "shm/fold.hpp"

namespace fastfork::master {

void process_table::attach(shm::segment_layout* layout) noexcept {
    layout_ = layout;
    free_slots_.clear();
    for (unsigned s = shm::slot_capacity; s-- > 0;) free_slots_.push_back(s);
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
