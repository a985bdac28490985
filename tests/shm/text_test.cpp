#include "shm/text.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>
#include <string>

using namespace fastfork::shm;

namespace {

// Whether `s` is well-formed UTF-8, by utf8_sequence_length.
bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_length(s.substr(i));
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_text)

BOOST_AUTO_TEST_CASE(sequence_length_follows_rfc_3629) {
    struct {
        const char* bytes;
        std::size_t length;
    } cases[] = {
        {"a", 1},
        {"\xc3\xa9", 2},          // é
        {"\xe2\x82\xac", 3},      // €
        {"\xf0\x9f\x98\x80", 4},  // 😀
        {"\xc3", 0},              // truncated
        {"\x80", 0},              // stray continuation
        {"\xc0\xaf", 0},          // overlong '/'
        {"\xe0\x80\xaf", 0},      // overlong
        {"\xed\xa0\x80", 0},      // surrogate U+D800
        {"\xf4\x90\x80\x80", 0},  // above U+10FFFF
        {"\xff", 0},
    };
    for (const auto& c : cases) BOOST_TEST(utf8_sequence_length(c.bytes) == c.length, c.bytes);
}

BOOST_AUTO_TEST_CASE(escapes_invalid_bytes_and_controls) {
    BOOST_TEST(escape_text("caf\xc3\xa9") == "caf\xc3\xa9");
    BOOST_TEST(escape_text("bad \xff\xfe byte") == "bad \\xff\\xfe byte");
    BOOST_TEST(escape_text("cut \xe2\x82") == "cut \\xe2\\x82");
    BOOST_TEST(escape_text("a\nb\x1b[2J") == "a\\x0ab\\x1b[2J");
}

BOOST_AUTO_TEST_CASE(issue_16_2_copy_cuts_at_a_character_boundary) {
    // 255 bytes of text then a 2-byte character: snprintf would keep its first byte only.
    std::string msg(254, 'x');
    msg += "\xc3\xa9\xc3\xa9";
    char dst[256];
    const std::size_t n = copy_text(dst, sizeof dst, msg);
    BOOST_TEST(n == 254u);
    BOOST_TEST(std::strlen(dst) == n);
    msg = std::string(253, 'x') + "\xc3\xa9";
    BOOST_TEST(copy_text(dst, sizeof dst, msg) == 255u);
    BOOST_TEST(is_valid_utf8(dst));
    // An escape is never cut either.
    msg = std::string(253, 'x') + "\xff";
    BOOST_TEST(copy_text(dst, sizeof dst, msg) == 253u);
    BOOST_TEST(copy_text(dst, 0, msg) == 0u);
    BOOST_TEST(copy_text(dst, 1, msg) == 0u);
    BOOST_TEST(dst[0] == '\0');
}

BOOST_AUTO_TEST_CASE(random_bytes_always_come_out_valid) {
    std::mt19937 rng(16'2);
    for (int round = 0; round < 2000; ++round) {
        std::string in(rng() % 300, '\0');
        for (auto& c : in) c = static_cast<char>(rng());
        const std::string out = escape_text(in);
        BOOST_TEST_REQUIRE(is_valid_utf8(out));
        char dst[256];
        copy_text(dst, sizeof dst, in);
        BOOST_TEST_REQUIRE(is_valid_utf8(dst));
    }
}

BOOST_AUTO_TEST_SUITE_END()
