#include "master/units.hpp"

#include <boost/test/unit_test.hpp>

using namespace fastfork::master;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(master_units)

BOOST_AUTO_TEST_CASE(parses_durations_with_units) {
    BOOST_CHECK(parse_duration("30s") == 30'000ms);
    BOOST_CHECK(parse_duration("250ms") == 250ms);
    BOOST_CHECK(parse_duration("2m") == 120'000ms);
    BOOST_CHECK(parse_duration("1h") == 3'600'000ms);
    BOOST_CHECK(parse_duration("1.5s") == 1500ms);
    BOOST_CHECK(parse_duration("10") == 10'000ms);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_durations) {
    for (const char* bad : {"", "s", "10x", "-5s", "1.2.3s", "ten"}) BOOST_CHECK_MESSAGE(!parse_duration(bad), bad);
}

BOOST_AUTO_TEST_CASE(parses_sizes_as_binary_units) {
    BOOST_CHECK(parse_size("512") == 512u);
    BOOST_CHECK(parse_size("64KiB") == 65536u);
    BOOST_CHECK(parse_size("4MiB") == 4u << 20);
    BOOST_CHECK(parse_size("4MB") == 4u << 20);
    BOOST_CHECK(parse_size("1GiB") == 1ull << 30);
    BOOST_CHECK(!parse_size("4 parsecs"));
    BOOST_CHECK(!parse_size("0.5"));
}

BOOST_AUTO_TEST_CASE(formats_what_it_parses) {
    using std::chrono::milliseconds;
    BOOST_CHECK_EQUAL(format_duration(milliseconds(30'000)), "30s");
    BOOST_CHECK_EQUAL(format_duration(milliseconds(250)), "250ms");
    BOOST_CHECK_EQUAL(format_duration(milliseconds(120'000)), "2m");
    BOOST_CHECK_EQUAL(format_duration(milliseconds(3'600'000)), "1h");
    BOOST_CHECK_EQUAL(format_size(64 * 1024), "64KiB");
    BOOST_CHECK_EQUAL(format_size(4u << 20), "4MiB");
    BOOST_CHECK_EQUAL(format_size(1000), "1000");
    for (std::uint64_t n : {0ull, 1ull, 1000ull, 1024ull, 1536ull, 1ull << 20, 3ull << 30})
        BOOST_CHECK(parse_size(format_size(n)) == n);
    for (long ms : {0L, 1L, 999L, 1000L, 60'000L, 90'000L, 7'200'000L})
        BOOST_CHECK(parse_duration(format_duration(milliseconds(ms))) == milliseconds(ms));
}

BOOST_AUTO_TEST_CASE(parses_nginx_style_sizes) {
    BOOST_CHECK(parse_size("512k") == 512u << 10);
    BOOST_CHECK(parse_size("8m") == 8u << 20);
    BOOST_CHECK(parse_size("1g") == 1ull << 30);
    BOOST_CHECK(parse_size("8M") == 8u << 20);
    BOOST_CHECK(parse_size("4MiB") == 4u << 20);
    BOOST_CHECK(!parse_size("8x"));
    BOOST_CHECK(!parse_size("8mm"));
}

BOOST_AUTO_TEST_SUITE_END()
