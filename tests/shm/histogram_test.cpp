#include "shm/histogram.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

using namespace fastfork::shm;

namespace {

// The exact nearest-rank percentile, the definition histogram_values::percentile estimates.
double exact_percentile(std::vector<std::uint64_t> v, double p) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return static_cast<double>(v[rank - 1]);
}

histogram_values histogram_of(const std::vector<std::uint64_t>& values) {
    auto h = std::make_unique<latency_histogram>();
    for (auto v : values) h->record(v);
    histogram_values out;
    out.load(*h);
    return out;
}

void check_percentiles_within_one_percent(const std::vector<std::uint64_t>& values) {
    const histogram_values h = histogram_of(values);
    BOOST_TEST(h.count() == values.size());
    for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const double exact = exact_percentile(values, p);
        const double estimate = h.percentile(p);
        BOOST_TEST_CONTEXT("p" << p << " exact " << exact << " estimate " << estimate) {
            BOOST_TEST(std::abs(estimate - exact) <= 0.01 * exact);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_histogram)

BOOST_AUTO_TEST_CASE(buckets_tile_the_range_without_gaps) {
    for (std::size_t i = 0; i + 1 < histogram_buckets; ++i)
        BOOST_TEST_REQUIRE(histogram_bucket_lower(i + 1) == histogram_bucket_lower(i) + histogram_bucket_width(i));
    BOOST_TEST(histogram_bucket_of(0) == 0u);
    BOOST_TEST(histogram_bucket_of(63) == 63u);
    BOOST_TEST(histogram_bucket_of(64) == 64u);
    // 60 s still has a bucket of its own; everything from 2^36 ns (68.7 s) clamps into the last.
    BOOST_TEST(histogram_bucket_of(60'000'000'000ull) < histogram_buckets - 1);
    BOOST_TEST(histogram_bucket_lower(histogram_buckets - 1) + histogram_bucket_width(histogram_buckets - 1) ==
               std::uint64_t{1} << histogram_max_exponent);
    BOOST_TEST(histogram_bucket_of(~std::uint64_t{0}) == histogram_buckets - 1);
}

BOOST_AUTO_TEST_CASE(every_value_lands_in_the_bucket_that_covers_it) {
    std::mt19937_64 rng(42);
    std::vector<std::uint64_t> values = {
        0, 1, 63, 64, 127, 128, 1000, 1023, 1024, 999'999, 60'000'000'000ull, (std::uint64_t{1} << 36) - 1};
    for (int i = 0; i < 100'000; ++i) values.push_back(rng() >> (rng() % 64));
    for (auto v : values) {
        const std::size_t b = histogram_bucket_of(v);
        if (v >= (std::uint64_t{1} << histogram_max_exponent)) {
            BOOST_TEST_REQUIRE(b == histogram_buckets - 1);
            continue;
        }
        BOOST_TEST_REQUIRE(histogram_bucket_lower(b) <= v);
        BOOST_TEST_REQUIRE(v < histogram_bucket_lower(b) + histogram_bucket_width(b));
    }
}

BOOST_AUTO_TEST_CASE(bucket_width_is_at_most_one_64th_of_its_values) {
    for (std::size_t i = histogram_sub_count; i < histogram_buckets; ++i)
        BOOST_TEST_REQUIRE(histogram_bucket_width(i) * 64 <= histogram_bucket_lower(i));
}

BOOST_AUTO_TEST_CASE(percentiles_of_uniform_data_are_within_one_percent) {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<std::uint64_t> dist(1'000, 10'000'000);  // 1 µs .. 10 ms
    std::vector<std::uint64_t> values(200'000);
    for (auto& v : values) v = dist(rng);
    check_percentiles_within_one_percent(values);
}

BOOST_AUTO_TEST_CASE(percentiles_of_exponential_data_are_within_one_percent) {
    std::mt19937_64 rng(2);
    std::exponential_distribution<double> dist(1.0 / 200'000.0);  // mean 200 µs
    std::vector<std::uint64_t> values(200'000);
    for (auto& v : values) v = 1'000 + static_cast<std::uint64_t>(dist(rng));
    check_percentiles_within_one_percent(values);
}

BOOST_AUTO_TEST_CASE(percentiles_of_fixed_values_are_within_one_percent) {
    for (std::uint64_t v : {1'000ull, 1'234ull, 15'000ull, 1'234'567ull, 999'999'999ull, 59'999'999'999ull}) {
        BOOST_TEST_CONTEXT("value " << v) {
            check_percentiles_within_one_percent(std::vector<std::uint64_t>(1000, v));
        }
    }
    // Two clusters: the median switches between them exactly at the rank boundary.
    std::vector<std::uint64_t> two(500, 10'000);
    two.insert(two.end(), 500, 5'000'000);
    check_percentiles_within_one_percent(two);
}

BOOST_AUTO_TEST_CASE(empty_histogram_reports_zero) {
    histogram_values h;
    BOOST_TEST(h.count() == 0u);
    BOOST_TEST(h.percentile(50) == 0.0);
    BOOST_TEST(h.percentile(99.9) == 0.0);
}

BOOST_AUTO_TEST_CASE(merge_sums_and_minus_gives_an_interval) {
    histogram_values a = histogram_of({1'000, 2'000, 3'000});
    histogram_values b = histogram_of({3'000, 4'000});
    histogram_values sum = a;
    sum.merge(b);
    BOOST_TEST(sum.count() == 5u);
    BOOST_TEST(sum.sum_ns == 13'000u);
    histogram_values back = sum.minus(a);
    BOOST_TEST(back.count() == 2u);
    BOOST_TEST(back.sum_ns == 7'000u);
    BOOST_TEST(back.buckets == b.buckets);
}

BOOST_AUTO_TEST_CASE(fold_moves_everything_and_zeroes_the_source) {
    auto into = std::make_unique<latency_histogram>();
    auto from = std::make_unique<latency_histogram>();
    into->record(5'000);
    from->record(5'000);
    from->record(70'000);
    fold_histogram(*into, *from);
    histogram_values a, b;
    a.load(*into);
    b.load(*from);
    BOOST_TEST(a.count() == 3u);
    BOOST_TEST(a.sum_ns == 80'000u);
    BOOST_TEST(b.count() == 0u);
    BOOST_TEST(b.sum_ns == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
