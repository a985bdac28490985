#include "http/uri.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace fastfork::http;

namespace {

// Decodes into a fresh buffer; "<invalid>" when percent_decode rejects the input.
std::string decode(std::string_view in, bool plus_as_space = false) {
    std::string out(in.size(), '\0');
    const std::size_t n = percent_decode(in, out.data(), plus_as_space);
    if (n == std::string_view::npos) return "<invalid>";
    out.resize(n);
    return out;
}

// Keeps the storage alive as long as the parsed views.
struct parsed {
    std::vector<char> storage;
    query_args args;
    explicit parsed(std::string_view query) : storage(query.size() + 1) { args.parse(query, storage.data()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_uri)

BOOST_AUTO_TEST_CASE(percent_decode_decodes_escapes) {
    BOOST_TEST(decode("") == "");
    BOOST_TEST(decode("plain") == "plain");
    BOOST_TEST(decode("a%20b") == "a b");
    BOOST_TEST(decode("%2F%2f") == "//");
    BOOST_TEST(decode("%41%42%43") == "ABC");
    BOOST_TEST(decode("%e2%82%ac") == "\xe2\x82\xac");
    BOOST_TEST(decode("%00") == std::string(1, '\0'));
}

BOOST_AUTO_TEST_CASE(percent_decode_turns_plus_into_space_only_when_asked) {
    BOOST_TEST(decode("a+b", false) == "a+b");
    BOOST_TEST(decode("a+b", true) == "a b");
    BOOST_TEST(decode("a%2Bb", true) == "a+b");
}

BOOST_AUTO_TEST_CASE(percent_decode_rejects_truncated_or_non_hex_escapes) {
    BOOST_TEST(decode("%") == "<invalid>");
    BOOST_TEST(decode("abc%") == "<invalid>");
    BOOST_TEST(decode("%4") == "<invalid>");
    BOOST_TEST(decode("%zz") == "<invalid>");
    BOOST_TEST(decode("%4g") == "<invalid>");
    BOOST_TEST(decode("%g4") == "<invalid>");
    BOOST_TEST(decode("ok%2") == "<invalid>");
}

BOOST_AUTO_TEST_CASE(percent_decode_works_in_place) {
    std::string s = "x%41y%20z+w";
    const std::size_t n = percent_decode(s, s.data(), true);
    BOOST_TEST(std::string_view(s.data(), n) == "xAy z w");
}

BOOST_AUTO_TEST_CASE(query_args_decode_keys_and_values) {
    parsed p("a=1&b=two%20words&c=x+y&d%26e=%3D");
    BOOST_TEST(p.args.size() == 4u);
    BOOST_TEST(p.args.get("a") == "1");
    BOOST_TEST(p.args.get("b") == "two words");
    BOOST_TEST(p.args.get("c") == "x y");
    BOOST_TEST(p.args.get("d&e") == "=");
}

BOOST_AUTO_TEST_CASE(query_args_keep_order_and_duplicates) {
    parsed p("k=1&j=2&k=3");
    BOOST_TEST_REQUIRE(p.args.size() == 3u);
    BOOST_TEST(p.args[0].key == "k");
    BOOST_TEST(p.args[0].value == "1");
    BOOST_TEST(p.args[1].key == "j");
    BOOST_TEST(p.args[2].value == "3");
    BOOST_TEST(p.args.get("k") == "1");  // the first one wins
    std::string keys;
    for (const auto& a : p.args) keys += std::string(a.key);
    BOOST_TEST(keys == "kjk");
}

BOOST_AUTO_TEST_CASE(has_tells_absent_from_empty) {
    parsed p("flag&empty=&v=1");
    BOOST_TEST(p.args.has("flag"));
    BOOST_TEST(p.args.get("flag") == "");
    BOOST_TEST(p.args.has("empty"));
    BOOST_TEST(p.args.get("empty") == "");
    BOOST_TEST(!p.args.has("missing"));
    BOOST_TEST(p.args.get("missing") == "");
}

BOOST_AUTO_TEST_CASE(empty_pairs_are_skipped) {
    parsed p("&&a=1&&b=2&");
    BOOST_TEST(p.args.size() == 2u);
    BOOST_TEST(p.args.get("a") == "1");
    BOOST_TEST(p.args.get("b") == "2");
}

BOOST_AUTO_TEST_CASE(a_value_may_contain_equals_signs) {
    parsed p("expr=a=b");
    BOOST_TEST(p.args.get("expr") == "a=b");
}

BOOST_AUTO_TEST_CASE(pairs_with_invalid_escapes_are_skipped) {
    parsed p("a=%zz&b=2&c%=3&d=4");
    BOOST_TEST(p.args.size() == 2u);
    BOOST_TEST(!p.args.has("a"));
    BOOST_TEST(p.args.get("b") == "2");
    BOOST_TEST(!p.args.has("c%"));
    BOOST_TEST(p.args.get("d") == "4");
}

BOOST_AUTO_TEST_CASE(pairs_beyond_capacity_are_dropped) {
    std::string q;
    // Appended piece by piece: `"k" + std::to_string(i)` (operator+(const char*, string&&)) trips
    // a GCC 12 -Wrestrict false positive inside libstdc++'s basic_string::_M_replace at -O2 and
    // above (seen by many projects, e.g. googletest#4108), which breaks Release under -Werror.
    for (int i = 0; i < 100; ++i) {
        const std::string n = std::to_string(i);
        q.append("k").append(n).append("=").append(n).append("&");
    }
    parsed p(q);
    BOOST_TEST(p.args.size() == query_args::capacity);
    BOOST_TEST(p.args.get("k63") == "63");
    BOOST_TEST(!p.args.has("k64"));
}

BOOST_AUTO_TEST_CASE(empty_query_has_no_args_and_needs_no_storage) {
    query_args args;
    args.parse({}, nullptr);
    BOOST_TEST(args.size() == 0u);
    BOOST_TEST(args.begin() == args.end());
}

BOOST_AUTO_TEST_CASE(parse_replaces_earlier_results_and_clear_empties) {
    parsed p("a=1&b=2");
    std::vector<char> storage(8);
    p.args.parse("c=3", storage.data());
    BOOST_TEST(p.args.size() == 1u);
    BOOST_TEST(!p.args.has("a"));
    BOOST_TEST(p.args.get("c") == "3");
    p.args.clear();
    BOOST_TEST(p.args.size() == 0u);
    BOOST_TEST(!p.args.has("c"));
}

BOOST_AUTO_TEST_SUITE_END()
