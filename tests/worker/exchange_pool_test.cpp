#include "worker/exchange.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using namespace fastfork;

BOOST_AUTO_TEST_SUITE(worker_exchange_pool)

BOOST_AUTO_TEST_CASE(reuses_the_most_recently_released_exchange) {
    shm::counter hits{0}, misses{0};
    worker::exchange_pool pool(http::limits{}, true, hits, misses);
    worker::exchange* a = pool.acquire();
    worker::exchange* b = pool.acquire();
    pool.release(a);
    pool.release(b);
    BOOST_CHECK(pool.acquire() == b);
    BOOST_CHECK(pool.acquire() == a);
    BOOST_CHECK_EQUAL(shm::get(hits), 2u);
    BOOST_CHECK_EQUAL(shm::get(misses), 2u);
    pool.release(a);
    pool.release(b);
}

BOOST_AUTO_TEST_CASE(caps_idle_count_and_bytes) {
    shm::counter hits{0}, misses{0};
    worker::exchange_pool by_count(
        http::limits{}, true, hits, misses,
        worker::pool_limits{.max_idle_ms = 10'000, .max_idle_count = 2, .max_idle_bytes = 1u << 30});
    std::vector<worker::exchange*> held;
    for (int i = 0; i < 5; ++i) held.push_back(by_count.acquire());
    for (auto* e : held) by_count.release(e);
    BOOST_CHECK_EQUAL(by_count.pooled(), 2u);

    worker::exchange_pool by_bytes(
        http::limits{}, true, hits, misses,
        worker::pool_limits{
            .max_idle_ms = 10'000, .max_idle_count = 100, .max_idle_bytes = 3 * sizeof(worker::exchange)});
    held.clear();
    for (int i = 0; i < 5; ++i) held.push_back(by_bytes.acquire());
    for (auto* e : held) by_bytes.release(e);
    BOOST_CHECK_EQUAL(by_bytes.pooled(), 3u);
    BOOST_CHECK_EQUAL(by_bytes.pooled_bytes(), 3 * sizeof(worker::exchange));
}

BOOST_AUTO_TEST_CASE(frees_a_large_decoded_body_on_release) {
    shm::counter hits{0}, misses{0};
    worker::exchange_pool pool(http::limits{}, true, hits, misses);
    worker::exchange* e = pool.acquire();
    e->body.reserve(1u << 20);
    pool.release(e);
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), sizeof(worker::exchange));
    e = pool.acquire();
    BOOST_CHECK_EQUAL(e->body.capacity(), 0u);
    e->body.reserve(1024);  // a small one keeps its storage
    pool.release(e);
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), sizeof(worker::exchange) + 1024);
}

BOOST_AUTO_TEST_CASE(trims_exchanges_idle_longer_than_the_limit) {
    shm::counter hits{0}, misses{0};
    worker::exchange_pool pool(
        http::limits{}, true, hits, misses,
        worker::pool_limits{.max_idle_ms = 1000, .max_idle_count = 100, .max_idle_bytes = 1u << 30});
    pool.trim_idle(10'000);
    worker::exchange* a = pool.acquire();
    worker::exchange* b = pool.acquire();
    pool.release(a);  // at 10,000
    pool.trim_idle(10'500);
    pool.release(b);  // at 10,500
    BOOST_CHECK_EQUAL(pool.trim_idle(10'999), 0u);
    BOOST_CHECK_EQUAL(pool.trim_idle(11'000), sizeof(worker::exchange));
    BOOST_CHECK_EQUAL(pool.pooled(), 1u);
    BOOST_CHECK(pool.acquire() == b);
    pool.release(b);  // at 11,000
    BOOST_CHECK_EQUAL(pool.trim_idle(12'000), sizeof(worker::exchange));
    BOOST_CHECK_EQUAL(pool.pooled(), 0u);
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
