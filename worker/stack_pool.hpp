#pragma once
// Guard-paged fiber stacks, cached for reuse (worker). mmap'd stacks are expensive to create
// (Boost.Context doc: "Using protected_fixedsize is expensive"), so freed stacks go back to a
// bounded cache instead of to the kernel.

#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <vector>

namespace fastfork::worker {

class stack_pool {
public:
    /// `stack_size` usable bytes per stack (rounded up to pages), plus one PROT_NONE guard page
    /// below it so an overflow faults instead of corrupting a neighbour.
    explicit stack_pool(std::size_t stack_size, std::size_t max_cached = 256);
    ~stack_pool();
    stack_pool(const stack_pool&) = delete;
    stack_pool& operator=(const stack_pool&) = delete;

    /// A stack from the cache, or a fresh mapping. Throws std::bad_alloc when mmap fails
    /// (called only from fiber creation, which converts it to "no fiber available").
    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& sctx) noexcept;

    [[nodiscard]] std::size_t cached() const noexcept { return cache_.size(); }
    [[nodiscard]] std::size_t mapping_size() const noexcept { return mapping_size_; }

private:
    std::size_t mapping_size_;  // guard page + usable stack
    std::size_t max_cached_;
    std::vector<void*> cache_;  // bases of unused mappings
};

/// The StackAllocator handed to boost::context::fiber: a copyable handle on a stack_pool.
struct pooled_stack {
    stack_pool* pool;
    boost::context::stack_context allocate() { return pool->allocate(); }
    void deallocate(boost::context::stack_context& sctx) noexcept { pool->deallocate(sctx); }
};

}  // namespace fastfork::worker
