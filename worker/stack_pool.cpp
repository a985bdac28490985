#include "worker/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "worker/log.hpp"

namespace fastfork::worker {

namespace {
std::size_t page_size() noexcept {
    static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return size;
}
}  // namespace

stack_pool::stack_pool(std::size_t stack_size, std::size_t max_cached) : max_cached_(max_cached) {
    std::size_t page = page_size();
    std::size_t usable = (stack_size + page - 1) / page * page;
    if (usable < 4 * page) usable = 4 * page;
    mapping_size_ = usable + page;
    cache_.reserve(max_cached_);
}

stack_pool::~stack_pool() {
    for (void* base : cache_) ::munmap(base, mapping_size_);
}

boost::context::stack_context stack_pool::allocate() {
    void* base;
    if (!cache_.empty()) {
        base = cache_.back();
        cache_.pop_back();
    } else {
        // MAP_NORESERVE: pages are committed only when touched, so a 64 KiB stack whose handler
        // uses 8 KiB costs 8 KiB of memory.
        base =
            ::mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
            FF_LOG_ERROR("mmap(%zu) for a fiber stack failed: %s", mapping_size_, std::strerror(errno));
            throw std::bad_alloc();
        }
        if (::mprotect(base, page_size(), PROT_NONE) != 0) {
            FF_LOG_ERROR("mprotect(guard page) failed: %s", std::strerror(errno));
            ::munmap(base, mapping_size_);
            throw std::bad_alloc();
        }
    }
    boost::context::stack_context sctx;
    sctx.size = mapping_size_;
    sctx.sp = static_cast<char*>(base) + mapping_size_;
    return sctx;
}

void stack_pool::deallocate(boost::context::stack_context& sctx) noexcept {
    void* base = static_cast<char*>(sctx.sp) - sctx.size;
    if (cache_.size() < max_cached_) {
        // A cached stack keeps its mapping but gives its touched pages back: stacks are freed
        // only when idle fibers are trimmed, so this syscall is off the request path.
        ::madvise(static_cast<char*>(base) + page_size(), sctx.size - page_size(), MADV_DONTNEED);
        cache_.push_back(base);  // capacity reserved up front: never allocates
        return;
    }
    ::munmap(base, sctx.size);
}

}  // namespace fastfork::worker
