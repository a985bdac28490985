// shm/clock.hpp: the units of each reading and the order the clocks keep with one another.
// A wrong divisor (ns read as µs, ms as s) or a swapped clock id fails one of these.
#include "shm/clock.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <thread>

using namespace fastfork::shm;

BOOST_AUTO_TEST_SUITE(shm_clock)

BOOST_AUTO_TEST_CASE(monotonic_ns_measures_a_sleep) {
    const std::uint64_t before = monotonic_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::uint64_t took = monotonic_ns() - before;
    BOOST_TEST(took >= 20'000'000u);    // a sleep never returns early
    BOOST_TEST(took < 2'000'000'000u);  // and a loaded machine does not stretch it to 2 s
}

BOOST_AUTO_TEST_CASE(ms_us_and_ns_read_the_same_clock) {
    const std::uint64_t ns1 = monotonic_ns();
    const std::uint64_t us = monotonic_us();
    const std::uint64_t ms = monotonic_ms();
    const std::uint64_t ns2 = monotonic_ns();
    BOOST_TEST(ns1 / 1'000 <= us);
    BOOST_TEST(us <= ns2 / 1'000);
    BOOST_TEST(ns1 / 1'000'000 <= ms);
    BOOST_TEST(ms <= ns2 / 1'000'000);
}

BOOST_AUTO_TEST_CASE(monotonic_never_goes_back) {
    std::uint64_t last = monotonic_ns();
    for (int i = 0; i < 10'000; ++i) {
        const std::uint64_t now = monotonic_ns();
        BOOST_TEST_REQUIRE(now >= last);
        last = now;
    }
}

BOOST_AUTO_TEST_CASE(coarse_is_the_same_timeline_never_ahead) {
    // The heartbeat is written with the coarse clock and aged with the fine one: the coarse
    // value is the last tick's, so it is behind by at most a tick (plus any preemption).
    const std::uint64_t coarse = monotonic_coarse_ms();
    const std::uint64_t fine = monotonic_ms();
    BOOST_TEST(coarse <= fine);
    BOOST_TEST(fine - coarse < 1'000u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_TEST(monotonic_coarse_ms() - coarse >= 10u);  // it advances, in milliseconds
}

BOOST_AUTO_TEST_CASE(realtime_is_seconds_and_ms_since_the_epoch) {
    const std::time_t t1 = std::time(nullptr);
    const std::time_t s = realtime_s();
    const std::uint64_t ms = realtime_ms();
    const std::time_t t2 = std::time(nullptr);
    BOOST_TEST(s >= t1);  // the same seconds time(2) gives
    BOOST_TEST(s <= t2);
    BOOST_TEST(s > 1'577'836'800);  // after 2020-01-01: seconds, not ms or ns
    BOOST_TEST(ms / 1'000 >= static_cast<std::uint64_t>(s));
    BOOST_TEST(ms / 1'000 <= static_cast<std::uint64_t>(t2) + 1);
}

BOOST_AUTO_TEST_SUITE_END()
