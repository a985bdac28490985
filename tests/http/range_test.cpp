#include "http/range.hpp"

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>
#include <vector>

#include "http/conditional.hpp"
#include "http/date.hpp"
#include "tests/http/validators.hpp"

using namespace fastfork::http;

using fastfork::test::etag_of;
using fastfork::test::lm;
using fastfork::test::lm_text;

BOOST_AUTO_TEST_SUITE(http_range)

// ---------------------------------------------------------------- ranges

BOOST_AUTO_TEST_CASE(single_ranges_of_a_1000_byte_file) {
    struct row {
        std::string range;
        range_kind kind;
        std::uint64_t offset;
        std::uint64_t length;
    };
    const std::vector<row> rows = {
        {"", range_kind::full, 0, 1000},
        {"bytes=0-99", range_kind::partial, 0, 100},
        {"bytes=0-0", range_kind::partial, 0, 1},
        {"bytes=100-", range_kind::partial, 100, 900},
        {"bytes=-100", range_kind::partial, 900, 100},
        {"bytes=-2000", range_kind::partial, 0, 1000},
        {"bytes=999-5000", range_kind::partial, 999, 1},
        {"bytes=0-99999999999999999999999", range_kind::partial, 0, 1000},
        {"BYTES=0-1", range_kind::partial, 0, 2},
        {"bytes= 5-9 ", range_kind::partial, 5, 5},
        {"bytes=1000-", range_kind::unsatisfiable, 0, 0},
        {"bytes=5000-6000", range_kind::unsatisfiable, 0, 0},
        {"bytes=99999999999999999999999-", range_kind::unsatisfiable, 0, 0},
        {"bytes=-0", range_kind::unsatisfiable, 0, 0},
        {"bytes=10-5", range_kind::full, 0, 1000},
        {"bytes=abc", range_kind::full, 0, 1000},
        {"bytes=", range_kind::full, 0, 1000},
        {"bytes=-", range_kind::full, 0, 1000},
        {"bytes=1-2-3", range_kind::full, 0, 1000},
        {"bytes=+1-2", range_kind::full, 0, 1000},
        {"items=0-1", range_kind::full, 0, 1000},
        {"bytes=0-1,5-6", range_kind::full, 0, 1000},  // several ranges: the whole file
        {"bytes=0-1, -5", range_kind::full, 0, 1000},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.range) {
            const range_result got = evaluate_range(r.range, "", "\"t\"", 0, 1000);
            BOOST_TEST(static_cast<int>(got.kind) == static_cast<int>(r.kind));
            if (r.kind != range_kind::unsatisfiable) {
                BOOST_TEST(got.offset == r.offset);
                BOOST_TEST(got.length == r.length);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(ranges_of_an_empty_file) {
    BOOST_TEST(static_cast<int>(evaluate_range("bytes=0-", "", "\"t\"", 0, 0).kind) ==
               static_cast<int>(range_kind::unsatisfiable));
    const range_result suffix = evaluate_range("bytes=-5", "", "\"t\"", 0, 0);
    BOOST_TEST(static_cast<int>(suffix.kind) == static_cast<int>(range_kind::full));
    BOOST_TEST(suffix.length == 0u);
}

BOOST_AUTO_TEST_CASE(if_range_guards_the_range) {
    const std::time_t t = lm();
    const std::string tag = etag_of(t, 1000);
    auto kind = [&](std::string_view if_range) {
        return static_cast<int>(evaluate_range("bytes=0-9", if_range, tag, t, 1000).kind);
    };
    const int partial = static_cast<int>(range_kind::partial);
    const int full = static_cast<int>(range_kind::full);
    BOOST_TEST(kind("") == partial);
    BOOST_TEST(kind(tag) == partial);
    BOOST_TEST(kind("\"other\"") == full);
    BOOST_TEST(kind("W/" + tag) == full);  // If-Range needs a strong match
    BOOST_TEST(kind(lm_text) == partial);
    BOOST_TEST(kind("Mon, 07 Nov 1994 08:49:37 GMT") == full);
    BOOST_TEST(kind("garbage") == full);
    // If-Range that fails turns even an unsatisfiable range into the whole file.
    BOOST_TEST(static_cast<int>(evaluate_range("bytes=5000-", "\"other\"", tag, t, 1000).kind) == full);
}

BOOST_AUTO_TEST_CASE(formats_content_range) {
    char buf[max_content_range_size];
    BOOST_TEST(format_content_range({range_kind::partial, 0, 100}, 1000, buf) == "bytes 0-99/1000");
    BOOST_TEST(format_content_range({range_kind::partial, 999, 1}, 1000, buf) == "bytes 999-999/1000");
    BOOST_TEST(format_content_range({range_kind::unsatisfiable, 0, 0}, 1000, buf) == "bytes */1000");
    BOOST_TEST(format_content_range({range_kind::partial, ~0ull - 1, 1}, ~0ull, buf) ==
               "bytes 18446744073709551614-18446744073709551614/18446744073709551615");
}

BOOST_AUTO_TEST_SUITE_END()
