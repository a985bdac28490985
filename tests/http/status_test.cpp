#include "http/status.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace fastfork::http;

BOOST_AUTO_TEST_SUITE(http_status)

BOOST_AUTO_TEST_CASE(reason_phrases_follow_rfc_9110) {
    BOOST_TEST(reason_phrase(100) == "Continue");
    BOOST_TEST(reason_phrase(200) == "OK");
    BOOST_TEST(reason_phrase(204) == "No Content");
    BOOST_TEST(reason_phrase(301) == "Moved Permanently");
    BOOST_TEST(reason_phrase(304) == "Not Modified");
    BOOST_TEST(reason_phrase(308) == "Permanent Redirect");
    BOOST_TEST(reason_phrase(400) == "Bad Request");
    BOOST_TEST(reason_phrase(404) == "Not Found");
    BOOST_TEST(reason_phrase(408) == "Request Timeout");
    BOOST_TEST(reason_phrase(413) == "Content Too Large");
    BOOST_TEST(reason_phrase(414) == "URI Too Long");
    BOOST_TEST(reason_phrase(422) == "Unprocessable Content");
    BOOST_TEST(reason_phrase(500) == "Internal Server Error");
    BOOST_TEST(reason_phrase(501) == "Not Implemented");
    BOOST_TEST(reason_phrase(503) == "Service Unavailable");
    BOOST_TEST(reason_phrase(505) == "HTTP Version Not Supported");
}

BOOST_AUTO_TEST_CASE(reason_phrases_cover_codes_from_other_rfcs) {
    BOOST_TEST(reason_phrase(103) == "Early Hints");
    BOOST_TEST(reason_phrase(428) == "Precondition Required");
    BOOST_TEST(reason_phrase(429) == "Too Many Requests");
    BOOST_TEST(reason_phrase(431) == "Request Header Fields Too Large");
    BOOST_TEST(reason_phrase(451) == "Unavailable For Legal Reasons");
    BOOST_TEST(reason_phrase(511) == "Network Authentication Required");
}

BOOST_AUTO_TEST_CASE(unregistered_codes_are_unknown) {
    BOOST_TEST(reason_phrase(299) == "Unknown");
    BOOST_TEST(reason_phrase(0) == "Unknown");
    BOOST_TEST(reason_phrase(999) == "Unknown");
    BOOST_TEST(status_line(299) == "HTTP/1.1 299 Unknown\r\n");
}

BOOST_AUTO_TEST_CASE(status_line_is_version_code_reason_crlf_for_every_code) {
    for (unsigned code = 100; code <= 599; ++code) {
        const std::string expected =
            "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason_phrase(code)) + "\r\n";
        BOOST_TEST(status_line(code) == expected, "code " << code);
    }
    BOOST_TEST(status_line(200) == "HTTP/1.1 200 OK\r\n");
    BOOST_TEST(status_line(404) == "HTTP/1.1 404 Not Found\r\n");
}

BOOST_AUTO_TEST_CASE(status_line_views_are_stable) {
    const auto a = status_line(200);
    const auto b = status_line(200);
    BOOST_TEST(static_cast<const void*>(a.data()) == static_cast<const void*>(b.data()));
}

BOOST_AUTO_TEST_CASE(out_of_range_codes_get_the_500_line) {
    BOOST_TEST(status_line(0) == "HTTP/1.1 500 Internal Server Error\r\n");
    BOOST_TEST(status_line(99) == "HTTP/1.1 500 Internal Server Error\r\n");
    BOOST_TEST(status_line(600) == "HTTP/1.1 500 Internal Server Error\r\n");
}

BOOST_AUTO_TEST_CASE(status_body_is_code_reason_lf_for_every_code) {
    for (unsigned code = 100; code <= 599; ++code) {
        std::string expected = std::to_string(code);
        expected.append(" ").append(reason_phrase(code)).append("\n");
        BOOST_TEST(status_body(code) == expected, "code " << code);
    }
    BOOST_TEST(status_body(404) == "404 Not Found\n");
    BOOST_TEST(status_body(0) == "500 Internal Server Error\n");
    BOOST_TEST(status_body(600) == "500 Internal Server Error\n");
}

BOOST_AUTO_TEST_SUITE_END()
