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
