#include "http/rfc9110.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace fastfork::http;

namespace {

std::vector<std::string> elements(std::string_view list) {
    std::vector<std::string> out;
    for_each_list_element(list, [&](std::string_view e) {
        out.emplace_back(e);
        return false;
    });
    return out;
}

std::string decimal(std::uint64_t v) {
    char buf[max_decimal_digits];
    return std::string(buf, put_decimal(buf, v));
}

std::string hex(std::uint64_t v) {
    char buf[max_hex_digits];
    return std::string(buf, put_hex(buf, v));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_rfc9110)

BOOST_AUTO_TEST_CASE(tchar_is_exactly_the_rfc_set) {
    const std::string_view specials = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; ++c) {
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool expected = alnum || (c != 0 && specials.find(static_cast<char>(c)) != std::string_view::npos);
        BOOST_TEST(is_tchar(static_cast<char>(c)) == expected, "byte " << c);
    }
}

BOOST_AUTO_TEST_CASE(tokens_are_non_empty_runs_of_tchar) {
    BOOST_TEST(is_token("chunked"));
    BOOST_TEST(is_token("X-Custom_1.0~"));
    BOOST_TEST(!is_token(""));
    BOOST_TEST(!is_token("a b"));
    BOOST_TEST(!is_token("a:b"));
    BOOST_TEST(!is_token("\"q\""));
    BOOST_TEST(!is_token(std::string_view("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(trims_only_sp_and_htab) {
    BOOST_TEST(trim_ows(" \t a b \t ") == "a b");
    BOOST_TEST(trim_ows("   ").empty());
    BOOST_TEST(trim_ows("") == "");
    BOOST_TEST(trim_ows("\r\na\v") == "\r\na\v");
}

BOOST_AUTO_TEST_CASE(splits_lists_keeping_empty_elements) {
    BOOST_TEST((elements("a, b ,c") == std::vector<std::string>{"a", "b", "c"}));
    BOOST_TEST((elements("") == std::vector<std::string>{""}));
    BOOST_TEST((elements(" , a,,") == std::vector<std::string>{"", "a", "", ""}));
    BOOST_TEST((elements("gzip;q=0.5 ,\tbr") == std::vector<std::string>{"gzip;q=0.5", "br"}));
}

BOOST_AUTO_TEST_CASE(list_splitting_stops_when_asked) {
    int calls = 0;
    const bool stopped = for_each_list_element("a,b,c", [&](std::string_view e) {
        ++calls;
        return e == "b";
    });
    BOOST_TEST(stopped);
    BOOST_TEST(calls == 2);
}

BOOST_AUTO_TEST_CASE(parses_qvalues_in_thousandths) {
    struct row {
        std::string_view text;
        bool ok;
        unsigned q;
    };
    const row rows[] = {
        {"1", true, 1000},   {"1.", true, 1000},  {"1.000", true, 1000}, {"0", true, 0},
        {"0.5", true, 500},  {"0.25", true, 250}, {"0.001", true, 1},    {"0.", true, 0},
        {"1.001", false, 0}, {"2", false, 0},     {"0.0001", false, 0},  {"", false, 0},
        {".5", false, 0},    {"0,5", false, 0},   {"0.5 ", false, 0},    {"-0", false, 0},
    };
    for (const row& r : rows) {
        unsigned q = 777;
        BOOST_TEST(parse_qvalue(r.text, q) == r.ok, "'" << r.text << "'");
        BOOST_TEST(q == (r.ok ? r.q : 777u), "'" << r.text << "'");
    }
}

BOOST_AUTO_TEST_CASE(splits_weighted_elements) {
    weighted_element w;
    BOOST_TEST(parse_weighted_element("gzip", w));
    BOOST_TEST(w.value == "gzip");
    BOOST_TEST(w.q == 1000u);
    BOOST_TEST(parse_weighted_element("br ; Q=0.3", w));
    BOOST_TEST(w.value == "br");
    BOOST_TEST(w.q == 300u);
    BOOST_TEST(parse_weighted_element("text/html;level=1;q=0", w));
    BOOST_TEST(w.value == "text/html");
    BOOST_TEST(w.q == 0u);
    BOOST_TEST(parse_weighted_element("gzip;", w));
    BOOST_TEST(w.q == 1000u);
    BOOST_TEST(!parse_weighted_element("gzip;q=high", w));
    BOOST_TEST(!parse_weighted_element("gzip;q=", w));
}

BOOST_AUTO_TEST_CASE(reads_hex_digits_of_either_case) {
    BOOST_TEST(hex_value('0') == 0);
    BOOST_TEST(hex_value('9') == 9);
    BOOST_TEST(hex_value('a') == 10);
    BOOST_TEST(hex_value('F') == 15);
    BOOST_TEST(hex_value('g') == 0xFF);
    BOOST_TEST(hex_value(' ') == 0xFF);
    BOOST_TEST(hex_value('\xff') == 0xFF);
}

BOOST_AUTO_TEST_CASE(writes_decimal_and_hex) {
    BOOST_TEST(decimal(0) == "0");
    BOOST_TEST(decimal(7) == "7");
    BOOST_TEST(decimal(1234567890) == "1234567890");
    BOOST_TEST(decimal(~std::uint64_t{0}) == "18446744073709551615");
    BOOST_TEST(hex(0) == "0");
    BOOST_TEST(hex(255) == "ff");
    BOOST_TEST(hex(0x5f5e100) == "5f5e100");
    BOOST_TEST(hex(~std::uint64_t{0}) == "ffffffffffffffff");
}

BOOST_AUTO_TEST_SUITE_END()
