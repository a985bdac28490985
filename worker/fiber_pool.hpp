#pragma once
// The goroutine-style worker pool (worker): stackful fibers on Boost.Context, reused LIFO,
// capped at `concurrency`, trimmed when idle (fasthttp's workerPool). A fiber runs one task at
// a time and is the http::executor its handler suspends through.

#include <uv.h>

#include <boost/context/fiber.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "http/request_ctx.hpp"
#include "shm/counters.hpp"
#include "worker/options.hpp"
#include "worker/request_note.hpp"
#include "worker/stack_pool.hpp"

namespace fastfork::worker {

class fiber_pool;

/// One pooled fiber. Created by fiber_pool; never destroyed while a task runs on it.
class fiber final : public http::executor {
public:
    /// Suspends the task until a timer fires; the loop keeps running.
    void sleep(std::chrono::milliseconds d) override;
    /// Runs fn(arg) on libuv's thread pool and suspends until it has returned.
    void run_blocking(void (*fn)(void*), void* arg) override;

    /// Suspends the running task; it continues when someone calls fiber_pool::resume on it.
    void suspend() noexcept;

    /// What the task is serving, for the hang report; nullptr when nothing (the caller keeps
    /// `note` alive until it sets nullptr again).
    void set_note(const request_note* note) noexcept { note_ = note; }
    [[nodiscard]] const request_note* note() const noexcept { return note_; }

private:
    friend class fiber_pool;
    /// A task catches everything but Boost.Context's forced_unwind (STYLE.md rule 2).
    using task_fn = void (*)(void*);

    static void on_sleep_done(uv_timer_t* timer) noexcept;
    static void on_blocking_work(uv_work_t* req) noexcept;
    static void on_blocking_done(uv_work_t* req, int status) noexcept;
    static void on_timer_closed(uv_handle_t* handle) noexcept;

    fiber_pool* pool_ = nullptr;
    boost::context::fiber self_;    // the suspended fiber, resumed from the loop
    boost::context::fiber caller_;  // the loop context to return to, valid while running
    task_fn task_ = nullptr;
    void* task_arg_ = nullptr;
    std::uint64_t last_used_ms_ = 0;  // loop time when it went back to the pool
    bool exiting_ = false;
    const request_note* note_ = nullptr;
    uv_timer_t timer_{};
    uv_work_t work_{};
    void (*blocking_fn_)(void*) = nullptr;
    void* blocking_arg_ = nullptr;
};

class fiber_pool {
public:
    fiber_pool(uv_loop_t* loop, const options& opts, shm::worker_counters& counters);
    ~fiber_pool();
    fiber_pool(const fiber_pool&) = delete;
    fiber_pool& operator=(const fiber_pool&) = delete;

    /// The most recently used idle fiber, or a new one while fewer than `concurrency` exist.
    /// nullptr at the cap or when no stack can be mapped: the caller answers 503.
    [[nodiscard]] fiber* try_acquire() noexcept;

    /// Runs task(arg) on `f` (just acquired) from the loop context, until it first suspends or
    /// returns. When the task returns, `f` goes back to the pool by itself.
    void start(fiber* f, void (*task)(void*), void* arg) noexcept;

    /// Continues a suspended fiber from the loop context.
    void resume(fiber* f) noexcept;

    /// The fiber whose task is running, or nullptr in the loop context.
    [[nodiscard]] static fiber* current() noexcept { return current_; }

    /// Frees idle fibers unused for longer than max_idle_worker_duration (coldest first).
    void trim_idle(std::uint64_t now_ms) noexcept;
    /// Frees every idle fiber (worker exit).
    void free_idle() noexcept;

    [[nodiscard]] std::size_t live() const noexcept { return live_; }
    [[nodiscard]] std::size_t idle() const noexcept { return ready_.size(); }
    [[nodiscard]] uv_loop_t* loop() const noexcept { return loop_; }

private:
    friend class fiber;
    fiber* create() noexcept;
    void destroy(fiber* f) noexcept;
    void on_task_done(fiber* f) noexcept;

    uv_loop_t* loop_;
    std::size_t concurrency_;
    std::uint64_t max_idle_ms_;
    shm::worker_counters& counters_;
    stack_pool stacks_;
    std::vector<fiber*> ready_;  // LIFO: back is the hottest stack
    std::size_t live_ = 0;
    static inline fiber* current_ = nullptr;
};

}  // namespace fastfork::worker
