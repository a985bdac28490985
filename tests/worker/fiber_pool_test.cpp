#include "worker/fiber_pool.hpp"

#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

using namespace fastfork;
using namespace std::chrono_literals;

namespace {
struct loop_fixture {
    uv_loop_t loop{};
    shm::worker_counters counters{};
    worker::options opts;
    loop_fixture() { uv_loop_init(&loop); }
    ~loop_fixture() {
        uv_run(&loop, UV_RUN_DEFAULT);
        BOOST_CHECK_EQUAL(uv_loop_close(&loop), 0);
    }
};

struct task_state {
    worker::fiber* self = nullptr;
    int steps = 0;
    bool suspend_once = false;
};

void step_task(void* arg) {
    auto* s = static_cast<task_state*>(arg);
    s->self = worker::fiber_pool::current();
    ++s->steps;
    if (s->suspend_once) {
        s->self->suspend();
        ++s->steps;
    }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(worker_fiber_pool)

BOOST_FIXTURE_TEST_CASE(reuses_the_most_recently_released_fiber_first, loop_fixture) {
    worker::fiber_pool pool(&loop, opts, counters);
    worker::fiber* a = pool.try_acquire();
    worker::fiber* b = pool.try_acquire();
    BOOST_REQUIRE(a && b && a != b);
    task_state sa, sb;
    pool.start(a, step_task, &sa);  // a finishes first, then b: b is the hottest
    pool.start(b, step_task, &sb);
    BOOST_CHECK_EQUAL(pool.idle(), 2u);
    BOOST_CHECK(pool.try_acquire() == b);
    BOOST_CHECK(pool.try_acquire() == a);
    BOOST_CHECK_EQUAL(shm::get(counters.fibers_created), 2u);
    task_state done;
    pool.start(a, step_task, &done);
    pool.start(b, step_task, &done);
    pool.free_idle();
}

BOOST_FIXTURE_TEST_CASE(refuses_beyond_the_concurrency_cap, loop_fixture) {
    opts.concurrency = 3;
    worker::fiber_pool pool(&loop, opts, counters);
    std::vector<worker::fiber*> held;
    for (int i = 0; i < 3; ++i) held.push_back(pool.try_acquire());
    BOOST_CHECK(pool.try_acquire() == nullptr);
    task_state s;
    for (auto* f : held) pool.start(f, step_task, &s);
    BOOST_CHECK(pool.try_acquire() != nullptr);  // released fibers are available again
    pool.start(held.back(), step_task, &s);
    pool.free_idle();
}

BOOST_FIXTURE_TEST_CASE(suspended_task_resumes_where_it_stopped, loop_fixture) {
    worker::fiber_pool pool(&loop, opts, counters);
    task_state s;
    s.suspend_once = true;
    worker::fiber* f = pool.try_acquire();
    pool.start(f, step_task, &s);
    BOOST_CHECK_EQUAL(s.steps, 1);
    BOOST_CHECK_EQUAL(pool.idle(), 0u);  // still busy while suspended
    pool.resume(f);
    BOOST_CHECK_EQUAL(s.steps, 2);
    BOOST_CHECK_EQUAL(pool.idle(), 1u);
    pool.free_idle();
}

BOOST_FIXTURE_TEST_CASE(trims_fibers_idle_longer_than_the_limit, loop_fixture) {
    opts.max_idle_worker_duration = worker::millis(50);
    worker::fiber_pool pool(&loop, opts, counters);
    task_state s;
    worker::fiber* a = pool.try_acquire();
    worker::fiber* b = pool.try_acquire();
    pool.start(a, step_task, &s);
    pool.start(b, step_task, &s);
    std::uint64_t now = uv_now(&loop);
    pool.trim_idle(now + 10);
    BOOST_CHECK_EQUAL(pool.live(), 2u);
    pool.trim_idle(now + 60);
    BOOST_CHECK_EQUAL(pool.live(), 0u);
    BOOST_CHECK_EQUAL(shm::get(counters.fibers_freed), 2u);
}

namespace {
struct sleeper {
    std::chrono::milliseconds d;
    std::uint64_t woke_at = 0;
    uv_loop_t* loop;
};
void sleep_task(void* arg) {
    auto* s = static_cast<sleeper*>(arg);
    worker::fiber_pool::current()->sleep(s->d);
    s->woke_at = uv_now(s->loop);
}
struct blocker {
    std::thread::id ran_on;
    bool done = false;
};
void blocking_task(void* arg) {
    auto* b = static_cast<blocker*>(arg);
    worker::fiber_pool::current()->run_blocking(
        [](void* p) { static_cast<blocker*>(p)->ran_on = std::this_thread::get_id(); }, b);
    b->done = true;
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(many_sleepers_share_one_loop_thread, loop_fixture) {
    worker::fiber_pool pool(&loop, opts, counters);
    std::vector<sleeper> sleepers(200, sleeper{40ms, 0, &loop});
    std::uint64_t start = uv_now(&loop);
    for (auto& s : sleepers) pool.start(pool.try_acquire(), sleep_task, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (auto& s : sleepers) {
        BOOST_CHECK(s.woke_at >= start + 40);
        BOOST_CHECK(s.woke_at < start + 2000);  // concurrently, not 200 × 40 ms
    }
    pool.free_idle();
}

BOOST_FIXTURE_TEST_CASE(run_blocking_runs_on_the_thread_pool_and_resumes, loop_fixture) {
    worker::fiber_pool pool(&loop, opts, counters);
    blocker b;
    pool.start(pool.try_acquire(), blocking_task, &b);
    BOOST_CHECK(!b.done);
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_CHECK(b.done);
    BOOST_CHECK(b.ran_on != std::this_thread::get_id());
    pool.free_idle();
}

BOOST_AUTO_TEST_SUITE_END()
