#include "websocket/utf8.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace fastfork::websocket;
using namespace std::literals;

namespace {

// The verdict when `s` is fed in two pieces split at `k`.
bool valid_split(std::string_view s, std::size_t k) {
    utf8_validator v;
    return v.feed(s.substr(0, k)) && v.feed(s.substr(k)) && v.is_complete();
}

bool valid_bytewise(std::string_view s) {
    utf8_validator v;
    for (char c : s)
        if (!v.feed(std::string_view(&c, 1))) return false;
    return v.is_complete();
}

void expect(std::string_view s, bool valid) {
    BOOST_TEST(is_valid_utf8(s) == valid);
    BOOST_TEST(valid_bytewise(s) == valid);
    for (std::size_t k = 0; k <= s.size(); ++k) BOOST_TEST(valid_split(s, k) == valid);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_utf8)

BOOST_AUTO_TEST_CASE(accepts_valid_text) {
    expect("", true);
    expect("plain ASCII text that is longer than a few words, to use the 8-byte path", true);
    expect("\x7f\x00"s, true);
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbb\xbf", true);
    expect("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", true);  // boundaries
    expect("Hello-\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5-UTF-8!!", true);  // Autobahn 6.2
}

BOOST_AUTO_TEST_CASE(rejects_invalid_sequences) {
    expect("\x80", false);              // lone continuation
    expect("\xc0\x80", false);          // overlong NUL
    expect("\xc1\xbf", false);          // overlong
    expect("\xe0\x9f\xbf", false);      // overlong 3-byte
    expect("\xf0\x8f\xbf\xbf", false);  // overlong 4-byte
    expect("\xed\xa0\x80", false);      // surrogate U+D800
    expect("\xed\xbf\xbf", false);      // surrogate U+DFFF
    expect("\xf4\x90\x80\x80", false);  // U+110000
    expect("\xf5\x80\x80\x80", false);  // beyond the table
    expect("\xff", false);
    expect("abcdefghij\xe2\x82", false);  // truncated at the end
    expect(
        "\xe2\x82"
        "a",
        false);  // continuation missing
    expect(
        "Hello-\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
        "edited",
        false);
}

BOOST_AUTO_TEST_CASE(fails_at_the_first_bad_byte) {
    utf8_validator v;
    BOOST_TEST(v.feed("ok so far \xe2\x82"));
    BOOST_TEST(v.is_valid_so_far());
    BOOST_TEST(!v.is_complete());
    BOOST_TEST(!v.feed("x"));
    BOOST_TEST(!v.feed("more ASCII does not repair it"));
    v.reset();
    BOOST_TEST(v.feed("fresh"));
    BOOST_TEST(v.is_complete());
}

BOOST_AUTO_TEST_SUITE_END()
