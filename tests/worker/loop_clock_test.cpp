#include "worker/loop_clock.hpp"

#include <boost/test/unit_test.hpp>

#include "shm/clock.hpp"
#include "worker/loop.hpp"

using fastfork::worker::loop_clock;

namespace {

struct wake {
    loop_clock* clock = nullptr;
    std::uint64_t recent = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_loop_clock)

BOOST_AUTO_TEST_CASE(a_reading_is_reused_within_an_iteration) {
    uv_loop_t loop;
    BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0);
    loop_clock clock;
    clock.attach(&loop);
    const std::uint64_t first = clock.recent_ns();  // nothing read yet: reads
    BOOST_CHECK_EQUAL(clock.reads(), 1u);
    BOOST_CHECK_EQUAL(clock.recent_ns(), first);  // reused: a pipelined head's start
    BOOST_CHECK_EQUAL(clock.reads(), 1u);
    const std::uint64_t end = clock.now_ns();  // a response's end: always read
    BOOST_CHECK_GE(end, first);
    BOOST_CHECK_EQUAL(clock.reads(), 2u);
    BOOST_CHECK_EQUAL(clock.recent_ns(), end);  // the next head starts from the latest reading
    BOOST_CHECK_EQUAL(clock.reads(), 2u);
    fastfork::worker::close_loop(&loop);
}

BOOST_AUTO_TEST_CASE(no_reading_survives_the_loops_wait) {
    // A timer 50 ms away: the loop blocks in poll, then the timer runs in the next iteration.
    // What it sees as recent must be after the wait, not the reading from before it.
    uv_loop_t loop;
    BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0);
    loop_clock clock;
    clock.attach(&loop);
    const std::uint64_t before = clock.now_ns();
    wake w{&clock, 0};
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timer.data = &w;
    uv_timer_start(
        &timer,
        [](uv_timer_t* t) {
            auto* wk = static_cast<wake*>(t->data);
            wk->recent = wk->clock->recent_ns();
            uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
        },
        50, 0);
    uv_run(&loop, UV_RUN_DEFAULT);  // the prepare handle is unref'd: returns after the timer
    BOOST_CHECK_GE(w.recent, before + 45'000'000u);
    BOOST_CHECK_LE(w.recent, fastfork::shm::monotonic_ns());
    fastfork::worker::close_loop(&loop);
}

BOOST_AUTO_TEST_SUITE_END()
