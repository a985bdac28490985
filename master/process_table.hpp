#pragma once
// The master's process table (master): one record per live worker process (nginx's
// ngx_processes), and the stats slots they write, taken at start and folded back at exit.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shm/layout.hpp"

namespace fastfork::master {

/// One live worker process.
struct worker_proc {
    pid_t pid = 0;
    unsigned index = 0;  // worker index: whose listening sockets it serves
    std::uint64_t generation = 0;
    unsigned slot = 0;      // stats slot in shm
    bool stopping = false;  // we told it to stop: its exit is expected
    bool ready = false;
    std::uint64_t started_ms = 0;
    std::uint64_t request_limit = 0;  // this process's max_requests (+ jitter), drawn once; 0 = not yet
};

class process_table {
public:
    /// Starts using the slots of `layout` (all free); it must outlive the table's use.
    void attach(shm::segment_layout* layout) noexcept;

    /// Starts using `slots` of `layout` only: a new master during a binary upgrade, whose old
    /// master still owns the others.
    void attach(shm::segment_layout* layout, const std::vector<unsigned>& slots) noexcept;
    /// Takes every slot that no process holds (empty in shm, not ours) into the free list: the
    /// new master once the old one has gone.
    void adopt_free_slots() noexcept;
    /// Removes half of the free slots (at least one kept) from the free list and returns them,
    /// for the new master of an upgrade.
    [[nodiscard]] std::vector<unsigned> lend_slots();
    /// Takes lent slots back: a slot of a dead process is folded first (its master was killed
    /// before it could), one of a live process (an orphan of a failed new master still writing
    /// it) is skipped.
    void take_back(const std::vector<unsigned>& slots) noexcept;

    /// A free stats slot (its note cleared), or nullopt when every slot is in use.
    [[nodiscard]] std::optional<unsigned> take_slot() noexcept;
    /// Gives back a slot that was taken but never held a process.
    void return_slot(unsigned slot) noexcept { free_slots_.push_back(slot); }
    /// Folds the exited process's counters into the segment's totals and frees its slot.
    void release_slot(unsigned slot) noexcept;

    void add(const worker_proc& w) { workers_.push_back(w); }
    /// Removes and returns the record of `pid`; nullopt when it is not one of ours.
    [[nodiscard]] std::optional<worker_proc> remove(pid_t pid) noexcept;

    /// Marks `w` as stopping (its exit is expected), shows it as draining in shm unless `sig`
    /// is SIGKILL, and sends `sig` (SIGTERM: drain, SIGQUIT: exit now, SIGKILL).
    void stop(worker_proc& w, int sig) noexcept;

    [[nodiscard]] std::vector<worker_proc>& workers() noexcept { return workers_; }
    [[nodiscard]] const std::vector<worker_proc>& workers() const noexcept { return workers_; }
    [[nodiscard]] bool empty() const noexcept { return workers_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }
    [[nodiscard]] shm::worker_slot& slot(const worker_proc& w) noexcept { return layout_->slots[w.slot]; }
    /// What the process of `slot` wrote as its reason for not starting (empty if nothing). Read it
    /// only once that process has been reaped: the note has no lock, its writer must be gone.
    [[nodiscard]] std::string note(unsigned slot) const;

private:
    shm::segment_layout* layout_ = nullptr;
    std::vector<worker_proc> workers_;
    std::vector<unsigned> free_slots_;
};

}  // namespace fastfork::master
