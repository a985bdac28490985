#include "http/conditional.hpp"

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>
#include <vector>

#include "http/date.hpp"
#include "tests/http/validators.hpp"

using namespace fastfork::http;

using fastfork::test::etag_of;
using fastfork::test::lm;
using fastfork::test::lm_text;

BOOST_AUTO_TEST_SUITE(http_conditional)

// ---------------------------------------------------------------- ETag and preconditions

BOOST_AUTO_TEST_CASE(etag_is_nginx_style_hex_mtime_and_size) {
    BOOST_TEST(etag_of(0x5f5e100, 0x400) == "\"5f5e100-400\"");
    BOOST_TEST(etag_of(1, 0) == "\"1-0\"");
    BOOST_TEST(etag_of(0x5f5e100, 0x400, "gz") == "\"5f5e100-400-gz\"");
    BOOST_TEST(etag_of(-1, 1) == "\"ffffffffffffffff-1\"");
    BOOST_TEST(etag_of(0x7fffffffffffffff, ~0ull, "br").size() < max_etag_size);
}

BOOST_AUTO_TEST_CASE(etag_lists_match_weakly_or_strongly) {
    const std::string tag = "\"abc-1\"";
    BOOST_TEST(etag_list_matches("\"abc-1\"", tag, true));
    BOOST_TEST(etag_list_matches("\"abc-1\"", tag, false));
    BOOST_TEST(etag_list_matches("W/\"abc-1\"", tag, true));
    BOOST_TEST(!etag_list_matches("W/\"abc-1\"", tag, false));
    BOOST_TEST(etag_list_matches("\"x\", \"y\" ,\"abc-1\"", tag, true));
    BOOST_TEST(etag_list_matches("*", tag, false));
    BOOST_TEST(!etag_list_matches("\"abc-2\"", tag, true));
    BOOST_TEST(!etag_list_matches("abc-1", tag, true));  // unquoted: malformed, skipped
    BOOST_TEST(!etag_list_matches("\"abc-1", tag, true));
    BOOST_TEST(!etag_list_matches("", tag, true));
    BOOST_TEST(etag_list_matches("garbage, \"abc-1\"", tag, true));
}

BOOST_AUTO_TEST_CASE(preconditions_follow_rfc_9110_order) {
    const std::time_t t = lm();
    const std::string tag = etag_of(t, 1000);
    const std::string earlier = "Sat, 05 Nov 1994 08:49:37 GMT";
    const std::string later = "Mon, 07 Nov 1994 08:49:37 GMT";
    using R = precondition_result;
    // Owned strings: the preconditions view them.
    struct row {
        std::string name;
        std::string if_match, if_none_match, if_modified_since, if_unmodified_since;
        R expected;
        bool get_or_head = true;
    };
    const std::string lm_string(lm_text);
    const std::vector<row> rows = {
        {"none", "", "", "", "", R::proceed},
        {"inm match", "", tag, "", "", R::not_modified},
        {"inm weak match", "", "W/" + tag, "", "", R::not_modified},
        {"inm star", "", "*", "", "", R::not_modified},
        {"inm miss", "", "\"other\"", "", "", R::proceed},
        {"inm miss wins over ims", "", "\"other\"", later, "", R::proceed},
        {"inm match wins over old ims", "", tag, earlier, "", R::not_modified},
        {"inm match on POST", "", tag, "", "", R::failed, false},
        {"ims equal", "", "", lm_string, "", R::not_modified},
        {"ims later", "", "", later, "", R::not_modified},
        {"ims earlier", "", "", earlier, "", R::proceed},
        {"ims invalid", "", "", "yesterday", "", R::proceed},
        {"ims on POST", "", "", later, "", R::proceed, false},
        {"im match", tag, "", "", "", R::proceed},
        {"im star", "*", "", "", "", R::proceed},
        {"im miss", "\"other\"", "", "", "", R::failed},
        {"im weak is not strong", "W/" + tag, "", "", "", R::failed},
        {"ius earlier", "", "", "", earlier, R::failed},
        {"ius equal", "", "", "", lm_string, R::proceed},
        {"ius invalid", "", "", "", "nope", R::proceed},
        {"im match overrides ius", tag, "", "", earlier, R::proceed},
        {"im match then inm match", tag, tag, "", "", R::not_modified},
    };
    for (const auto& r : rows) {
        preconditions p;
        p.if_match = r.if_match;
        p.if_none_match = r.if_none_match;
        p.if_modified_since = r.if_modified_since;
        p.if_unmodified_since = r.if_unmodified_since;
        p.get_or_head = r.get_or_head;
        BOOST_TEST_CONTEXT(r.name) {
            BOOST_TEST(static_cast<int>(evaluate_preconditions(p, tag, t)) == static_cast<int>(r.expected));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
