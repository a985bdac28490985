#include "http/date.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

using namespace fastfork::http;

namespace {

std::string format(std::time_t t) {
    char buf[32];
    return std::string(format_http_date(t, buf));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_date)

BOOST_AUTO_TEST_CASE(formats_the_rfc_9110_example) {
    // RFC 9110 §5.6.7's example date.
    BOOST_TEST(format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

BOOST_AUTO_TEST_CASE(formats_known_timestamps) {
    BOOST_TEST(format(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    BOOST_TEST(format(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
    BOOST_TEST(format(2147483647) == "Tue, 19 Jan 2038 03:14:07 GMT");
    BOOST_TEST(format(4102444799) == "Thu, 31 Dec 2099 23:59:59 GMT");
    BOOST_TEST(format(4102444800) == "Fri, 01 Jan 2100 00:00:00 GMT");
}

BOOST_AUTO_TEST_CASE(format_writes_29_characters_and_a_terminator) {
    char buf[32];
    std::memset(buf, 'x', sizeof buf);
    const auto s = format_http_date(784111777, buf);
    BOOST_TEST(s.size() == 29u);
    BOOST_TEST(static_cast<const void*>(s.data()) == static_cast<const void*>(buf));
    BOOST_TEST(buf[29] == '\0');
    BOOST_TEST(buf[30] == 'x');
}

BOOST_AUTO_TEST_CASE(cache_reformats_at_most_once_per_second) {
    date_cache cache;
    BOOST_TEST(cache.formats() == 0u);
    for (int i = 0; i < 1000; ++i) BOOST_TEST(cache.get(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(cache.formats() == 1u);
    BOOST_TEST(cache.get(784111778) == "Sun, 06 Nov 1994 08:49:38 GMT");
    BOOST_TEST(cache.formats() == 2u);
    for (int i = 0; i < 10; ++i) (void)cache.get(784111778);
    BOOST_TEST(cache.formats() == 2u);
}

BOOST_AUTO_TEST_CASE(cache_reformats_when_time_goes_backwards) {
    date_cache cache;
    (void)cache.get(784111778);
    BOOST_TEST(cache.get(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(cache.formats() == 2u);
}

BOOST_AUTO_TEST_CASE(parses_the_rfc_9110_example) {
    std::time_t t = 0;
    BOOST_TEST(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", t));
    BOOST_TEST(t == 784111777);
}

BOOST_AUTO_TEST_CASE(parse_inverts_format) {
    // Steps through 1970..2100 at an odd stride so every field value gets exercised.
    for (std::time_t t = 0; t < 4102444800; t += 7919 * 61) {
        char buf[32];
        std::time_t back = -1;
        BOOST_TEST_REQUIRE(parse_http_date(format_http_date(t, buf), back));
        BOOST_TEST_REQUIRE(back == t);
    }
}

BOOST_AUTO_TEST_CASE(parse_handles_leap_days) {
    std::time_t t = 0;
    BOOST_TEST(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT", t));
    BOOST_TEST(t == 951782400);
    BOOST_TEST(!parse_http_date("Thu, 29 Feb 1900 00:00:00 GMT", t));
    BOOST_TEST(!parse_http_date("Wed, 29 Feb 2023 00:00:00 GMT", t));
}

BOOST_AUTO_TEST_CASE(parse_rejects_obsolete_forms) {
    std::time_t t = 0;
    // RFC 9110 §5.6.7: the RFC 850 and asctime forms are obsolete; we accept only IMF-fixdate.
    BOOST_TEST(!parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", t));
    BOOST_TEST(!parse_http_date("Sun Nov  6 08:49:37 1994", t));
}

BOOST_AUTO_TEST_CASE(parse_rejects_malformed_dates) {
    std::time_t t = 0;
    const char* bad[] = {
        "",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 6  Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT ",
        "Sun, 06 Nov 19a4 08:49:37 GMT",
    };
    for (const char* s : bad) BOOST_TEST(!parse_http_date(s, t), "accepted: " << s);
}

BOOST_AUTO_TEST_SUITE_END()
