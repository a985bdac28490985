#pragma once
// Retiring an exited worker process's stats slot (master): its counters move into the totals
// of its worker index and of the instance, so no exported counter ever goes down.

#include <cstddef>

#include "shm/layout.hpp"

namespace fastfork::shm {

/// Folds slot `slot` of `seg` (a process that has exited: nothing writes the slot any more)
/// into header.retired, retired_by_index[its worker_index] and header.retired_latency, then
/// zeroes its counters and histogram and marks the slot empty (pid 0). Gauges (counter_table)
/// are zeroed, not folded. All under header.fold_seq, so take_snapshot never sees the counts
/// twice or not at all. An index >= index_capacity is folded into the instance totals only.
/// Precondition: slot < slot_capacity; the caller is the segment's only master.
void fold_into_retired(segment_layout& seg, std::size_t slot) noexcept;

}  // namespace fastfork::shm
