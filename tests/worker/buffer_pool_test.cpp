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
