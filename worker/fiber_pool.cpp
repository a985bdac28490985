#include "worker/fiber_pool.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <new>

#include "worker/log.hpp"

namespace fastfork::worker {

// ---------------------------------------------------------------- fiber

void fiber::suspend() noexcept {
    FF_ASSERT(fiber_pool::current_ == this);
    caller_ = std::move(caller_).resume();
}

void fiber::sleep(std::chrono::milliseconds d) {
    FF_INVARIANT(fiber_pool::current_ == this, "ctx.sleep() called outside its handler's fiber");
    uv_timer_start(&timer_, on_sleep_done, static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()), 0);
    suspend();
}

void fiber::on_sleep_done(uv_timer_t* timer) noexcept {
    auto* self = static_cast<fiber*>(timer->data);
    FF_ASSERT(self);
    self->pool_->resume(self);
}

void fiber::run_blocking(void (*fn)(void*), void* arg) {
    FF_INVARIANT(fiber_pool::current_ == this, "ctx.run_blocking() called outside its handler's fiber");
    blocking_fn_ = fn;
    blocking_arg_ = arg;
    work_.data = this;
    int rc = uv_queue_work(pool_->loop_, &work_, on_blocking_work, on_blocking_done);
    if (rc != 0) {
        // The thread pool refused the job; running it here blocks the loop but keeps the
        // handler's contract (fn has run when run_blocking returns).
        FF_LOG_WARN("uv_queue_work failed: %s; running the job on the loop thread", uv_strerror(rc));
        fn(arg);
        return;
    }
    suspend();
}

void fiber::on_blocking_work(uv_work_t* req) noexcept {
    auto* self = static_cast<fiber*>(req->data);
    self->blocking_fn_(self->blocking_arg_);
}

void fiber::on_blocking_done(uv_work_t* req, int /*status*/) noexcept {
    auto* self = static_cast<fiber*>(req->data);
    self->pool_->resume(self);
}

void fiber::on_timer_closed(uv_handle_t* handle) noexcept {
    delete static_cast<fiber*>(handle->data);
}

// ---------------------------------------------------------------- fiber_pool

fiber_pool::fiber_pool(uv_loop_t* loop, const options& opts, shm::worker_counters& counters)
    : loop_(loop),
      concurrency_(opts.concurrency),
      max_idle_ms_(static_cast<std::uint64_t>(opts.max_idle_worker_duration.count())),
      counters_(counters),
      stacks_(opts.stack_size) {
    ready_.reserve(std::min<std::size_t>(concurrency_, 4096));
}

fiber_pool::~fiber_pool() {
    free_idle();
}

fiber* fiber_pool::create() noexcept {
    std::unique_ptr<fiber> f(new (std::nothrow) fiber());
    if (!f) return nullptr;
    f->pool_ = this;
    fiber* raw = f.get();
    try {
        f->self_ =
            boost::context::fiber(std::allocator_arg, pooled_stack{&stacks_}, [raw](boost::context::fiber&& caller) {
                raw->caller_ = std::move(caller);
                while (!raw->exiting_) {
                    // The task has its own top-level try (STYLE.md rule 2); only forced_unwind
                    // passes through here, to Boost.Context's own fiber entry.
                    raw->task_(raw->task_arg_);
                    raw->pool_->on_task_done(raw);
                    raw->caller_ = std::move(raw->caller_).resume();
                }
                return std::move(raw->caller_);
            });
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
    uv_timer_init(loop_, &f->timer_);
    f->timer_.data = raw;
    ++live_;
    shm::add(counters_.fibers_created);
    shm::set(counters_.fibers_live, live_);
    return f.release();
}

void fiber_pool::destroy(fiber* f) noexcept {
    // Let the entry loop return so Boost.Context unwinds nothing and frees the stack itself.
    f->exiting_ = true;
    resume(f);
    FF_ASSERT(!f->self_);
    --live_;
    shm::add(counters_.fibers_freed);
    shm::set(counters_.fibers_live, live_);
    uv_close(reinterpret_cast<uv_handle_t*>(&f->timer_), fiber::on_timer_closed);
}

fiber* fiber_pool::try_acquire() noexcept {
    if (!ready_.empty()) {
        fiber* f = ready_.back();
        ready_.pop_back();
        shm::set(counters_.fibers_idle, ready_.size());
        return f;
    }
    if (live_ >= concurrency_) return nullptr;
    return create();
}

void fiber_pool::start(fiber* f, void (*task)(void*), void* arg) noexcept {
    f->task_ = task;
    f->task_arg_ = arg;
    resume(f);
}

void fiber_pool::resume(fiber* f) noexcept {
    FF_INVARIANT(current_ == nullptr, "a fiber may only be resumed from the loop context");
    current_ = f;
    f->self_ = std::move(f->self_).resume();
    current_ = nullptr;
}

void fiber_pool::on_task_done(fiber* f) noexcept {
    f->task_ = nullptr;
    f->task_arg_ = nullptr;
    f->last_used_ms_ = uv_now(loop_);
    ready_.push_back(f);
    shm::set(counters_.fibers_idle, ready_.size());
}

void fiber_pool::trim_idle(std::uint64_t now_ms) noexcept {
    // ready_ is ordered by last use: the front holds the coldest fibers (fasthttp's clean()).
    std::size_t expired = 0;
    while (expired < ready_.size() && now_ms - ready_[expired]->last_used_ms_ >= max_idle_ms_) ++expired;
    if (expired == 0) return;
    for (std::size_t i = 0; i < expired; ++i) destroy(ready_[i]);
    ready_.erase(ready_.begin(), ready_.begin() + static_cast<std::ptrdiff_t>(expired));
    shm::set(counters_.fibers_idle, ready_.size());
}

void fiber_pool::free_idle() noexcept {
    for (fiber* f : ready_) destroy(f);
    ready_.clear();
    shm::set(counters_.fibers_idle, 0);
}

}  // namespace fastfork::worker
