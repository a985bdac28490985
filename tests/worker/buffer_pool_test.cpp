#include "worker/buffer_pool.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using namespace fastfork;

BOOST_AUTO_TEST_SUITE(worker_buffer_pool)

BOOST_AUTO_TEST_CASE(reuses_released_buffers_and_counts_hits) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(4096, hits, misses);
    http::byte_buffer* a = pool.acquire();
    BOOST_CHECK_GE(a->capacity(), 4096u);
    a->append("data");
    pool.release(a);
    http::byte_buffer* b = pool.acquire();
    BOOST_CHECK(a == b);
    BOOST_CHECK(b->empty());
    BOOST_CHECK_EQUAL(shm::get(hits), 1u);
    BOOST_CHECK_EQUAL(shm::get(misses), 1u);
    pool.release(b);
}

BOOST_AUTO_TEST_CASE(calibrates_default_size_to_the_most_common_use) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(64, hits, misses);
    // Mostly 16 KiB buffers, a few huge ones: the default follows the common size and the
    // outliers are not kept at full size.
    for (int i = 0; i < 42000; ++i) {
        http::byte_buffer* b = pool.acquire();
        b->reserve(i % 100 == 0 ? (8u << 20) : 16 * 1024);
        pool.release(b);
    }
    BOOST_CHECK_EQUAL(pool.default_size(), 16u * 1024);
    BOOST_CHECK_LT(pool.max_size(), 8u << 20);
    http::byte_buffer* big = pool.acquire();
    big->reserve(8u << 20);
    pool.release(big);
    for (std::size_t i = 0; i < pool.pooled(); ++i) {
        http::byte_buffer* b = pool.acquire();
        BOOST_CHECK_LT(b->capacity(), 8u << 20);
        pool.release(b);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(worker_buffer_pool_trim)

BOOST_AUTO_TEST_CASE(frees_releases_beyond_the_count_cap) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(
        4096, hits, misses,
        worker::pool_limits{.max_idle_ms = 10'000, .max_idle_count = 3, .max_idle_bytes = 1u << 30});
    std::vector<http::byte_buffer*> held;
    for (int i = 0; i < 5; ++i) held.push_back(pool.acquire());
    for (auto* b : held) pool.release(b);
    BOOST_CHECK_EQUAL(pool.pooled(), 3u);
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), 3u * 4096);
}

BOOST_AUTO_TEST_CASE(frees_releases_beyond_the_byte_cap) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(
        4096, hits, misses,
        worker::pool_limits{.max_idle_ms = 10'000, .max_idle_count = 100, .max_idle_bytes = 10'000});
    std::vector<http::byte_buffer*> held;
    for (int i = 0; i < 4; ++i) held.push_back(pool.acquire());
    for (auto* b : held) pool.release(b);
    BOOST_CHECK_EQUAL(pool.pooled(), 2u);  // 2 × 4096 fits in 10,000; a third does not
    BOOST_CHECK_LE(pool.pooled_bytes(), 10'000u);
    // Acquiring takes the bytes off the count again.
    http::byte_buffer* b = pool.acquire();
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), 4096u);
    pool.release(b);
}

BOOST_AUTO_TEST_CASE(frees_a_buffer_far_larger_than_the_default) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(4096, hits, misses);
    BOOST_CHECK_EQUAL(pool.max_size(), 16u * 4096);
    http::byte_buffer* big = pool.acquire();
    big->reserve(1u << 20);
    pool.release(big);
    BOOST_CHECK_EQUAL(pool.pooled(), 0u);
    http::byte_buffer* fits = pool.acquire();
    fits->reserve(16 * 4096);
    pool.release(fits);
    BOOST_CHECK_EQUAL(pool.pooled(), 1u);
}

BOOST_AUTO_TEST_CASE(trims_idle_buffers_coldest_first_and_reuses_lifo) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(
        4096, hits, misses,
        worker::pool_limits{.max_idle_ms = 1000, .max_idle_count = 100, .max_idle_bytes = 1u << 30});
    BOOST_CHECK_EQUAL(pool.trim_idle(5000), 0u);  // starts the clock
    http::byte_buffer* a = pool.acquire();
    http::byte_buffer* b = pool.acquire();
    http::byte_buffer* c = pool.acquire();
    pool.release(a);  // released at 5000
    pool.trim_idle(5600);
    pool.release(b);  // released at 5600
    pool.trim_idle(5800);
    pool.release(c);  // released at 5800
    BOOST_CHECK_EQUAL(pool.trim_idle(5999), 0u);
    BOOST_CHECK_EQUAL(pool.trim_idle(6000), 4096u);  // only a, the coldest
    BOOST_CHECK_EQUAL(pool.pooled(), 2u);
    // LIFO: the hottest comes back first, so a steady load keeps reusing the same buffers.
    http::byte_buffer* hot = pool.acquire();
    BOOST_CHECK(hot == c);
    pool.release(hot);                               // released at 6000: now the hottest again
    BOOST_CHECK_EQUAL(pool.trim_idle(6600), 4096u);  // b
    BOOST_CHECK_EQUAL(pool.pooled(), 1u);
    BOOST_CHECK_EQUAL(pool.trim_idle(7000), 4096u);  // c
    BOOST_CHECK_EQUAL(pool.pooled(), 0u);
    BOOST_CHECK_EQUAL(pool.pooled_bytes(), 0u);
}

BOOST_AUTO_TEST_CASE(buffers_released_before_the_clock_starts_get_a_full_idle_period) {
    shm::counter hits{0}, misses{0};
    worker::buffer_pool pool(
        4096, hits, misses,
        worker::pool_limits{.max_idle_ms = 1000, .max_idle_count = 100, .max_idle_bytes = 1u << 30});
    pool.release(pool.acquire());
    BOOST_CHECK_EQUAL(pool.trim_idle(1'000'000), 0u);
    BOOST_CHECK_EQUAL(pool.trim_idle(1'000'999), 0u);
    BOOST_CHECK_EQUAL(pool.trim_idle(1'001'000), 4096u);
}

BOOST_AUTO_TEST_SUITE_END()
