#include "http/static_file.hpp"

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "http/date.hpp"

using namespace fastfork::http;

namespace {

struct resolved {
    unsigned status;
    std::string relative;
    bool trailing_slash;
};

resolved resolve(std::string_view raw) {
    std::string storage(raw.size() + 1, '\0');
    const resolved_path r = resolve_request_path(raw, storage.data());
    return {r.status, std::string(r.relative), r.trailing_slash};
}

// What every accepted path must satisfy, whatever the input: relative, no "..", no empty
// segment, no NUL or backslash.
bool is_safe_relative(std::string_view rel) {
    if (rel.empty()) return true;
    if (rel.front() == '/' || rel.back() == '/') return false;
    if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) return false;
    std::size_t pos = 0;
    while (pos <= rel.size()) {
        std::size_t end = rel.find('/', pos);
        if (end == std::string_view::npos) end = rel.size();
        const std::string_view seg = rel.substr(pos, end - pos);
        if (seg.empty() || seg == "." || seg == "..") return false;
        pos = end + 1;
    }
    return true;
}

constexpr std::string_view lm_text = "Sun, 06 Nov 1994 08:49:37 GMT";

std::time_t lm() {
    std::time_t t = 0;
    BOOST_REQUIRE(parse_http_date(lm_text, t));
    return t;
}

std::string etag_of(std::int64_t mtime, std::uint64_t size, std::string_view suffix = {}) {
    char buf[max_etag_size];
    return std::string(format_etag(mtime, size, suffix, buf));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_static_file)

// ---------------------------------------------------------------- path resolution

BOOST_AUTO_TEST_CASE(resolves_ordinary_paths) {
    struct row {
        std::string raw;
        std::string relative;
        bool trailing_slash;
    };
    const std::vector<row> rows = {
        {"/", "", true},
        {"/index.html", "index.html", false},
        {"/a/b/c.txt", "a/b/c.txt", false},
        {"/docs/", "docs", true},
        {"/a//b", "a/b", false},
        {"//a///b//", "a/b", true},
        {"/a/./b", "a/b", false},
        {"/a/.", "a", true},
        {"/./", "", true},
        {"/hello%20world.txt", "hello world.txt", false},
        {"/with+plus", "with+plus", false},  // '+' is not a space in a path
        {"/%C3%BC%E2%82%AC.txt", "\xC3\xBC\xE2\x82\xAC.txt", false},
        {"/\xC3\xBC.txt", "\xC3\xBC.txt", false},  // raw UTF-8 is passed through
        {"/a..b", "a..b", false},
        {"/..a", "..a", false},
        {"/a..", "a..", false},
        {"/...", "...", false},
        {"/....//", "....", true},
        {"/%252e%252e/x", "%2e%2e/x", false},  // decoded once only
        {"/.well-known/x", ".well-known/x", false},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.raw) {
            const resolved got = resolve(r.raw);
            BOOST_TEST(got.status == 0u);
            BOOST_TEST(got.relative == r.relative);
            BOOST_TEST(got.trailing_slash == r.trailing_slash);
        }
    }
}

BOOST_AUTO_TEST_CASE(refuses_every_traversal_vector) {
    struct row {
        std::string raw;
        unsigned status;
    };
    const std::vector<row> rows = {
        {"/../etc/passwd", 403},
        {"/..", 403},
        {"/../", 403},
        {"/a/..", 403},
        {"/a/../b", 403},  // not resolved against "a" either: any ".." segment is refused
        {"/%2e%2e/", 403},
        {"/%2E%2E/etc/passwd", 403},
        {"/.%2e/etc/passwd", 403},
        {"/%2e./etc/passwd", 403},
        {"/a/%2e%2e/%2e%2e/", 403},
        {"/a/%2e%2e/%2e%2e/etc/passwd", 403},
        {"//../etc/passwd", 403},
        {"/./../etc/passwd", 403},
        {"/..%2f..%2fetc/passwd", 404},
        {"/..%2F..%2Fetc%2Fpasswd", 404},
        {"/a%2Fb", 404},
        {"/a%2fb", 404},
        {"/%2F", 404},
        {"/%00", 404},
        {"/a.txt%00.html", 404},
        {"/a\\b", 403},
        {"/..\\..\\etc\\passwd", 403},
        {"/%5c..%5cetc%5cpasswd", 403},
        {"/%5C", 403},
        {"/%zz", 400},
        {"/%2", 400},
        {"/abc%", 400},
        {"relative/path", 400},
        {"", 400},
        {"*", 400},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.raw) {
            const resolved got = resolve(r.raw);
            BOOST_TEST(got.status == r.status);
            BOOST_TEST(got.relative.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(overlong_utf8_dots_are_not_dots) {
    // %c0%ae is an overlong encoding of '.'; we never decode UTF-8, so it stays two bytes that
    // name no parent directory (the open then finds nothing).
    const resolved got = resolve("/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd");
    BOOST_TEST(got.status == 0u);
    BOOST_TEST(got.relative == "\xC0\xAE\xC0\xAE/\xC0\xAE\xC0\xAE/etc/passwd");
    BOOST_TEST(is_safe_relative(got.relative));
}

BOOST_AUTO_TEST_CASE(refuses_an_over_long_path) {
    const std::string longest = "/" + std::string(max_relative_path, 'a');
    BOOST_TEST(resolve(longest).status == 0u);
    BOOST_TEST(resolve(longest + "a").status == 404u);
}

BOOST_AUTO_TEST_CASE(every_accepted_path_is_safe_random_inputs) {
    // Random paths over the characters that matter: whatever is accepted must be safe.
    const std::string alphabet = "/./.%2eEfF5cC00\\a";
    std::mt19937 rng(6);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<std::size_t> length(0, 14);
    std::size_t accepted = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::string raw = "/";
        for (std::size_t n = length(rng); n > 0; --n) raw += alphabet[pick(rng)];
        const resolved got = resolve(raw);
        if (got.status != 0) continue;
        ++accepted;
        BOOST_TEST_CONTEXT(raw) {
            BOOST_TEST(is_safe_relative(got.relative));
        }
    }
    BOOST_TEST(accepted > 1000u);
}

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

// ---------------------------------------------------------------- content codings

BOOST_AUTO_TEST_CASE(chooses_a_precompressed_coding) {
    struct row {
        std::string accept;
        bool have_br;
        bool have_gzip;
        content_coding expected;
    };
    using C = content_coding;
    const std::vector<row> rows = {
        {"gzip, deflate, br", true, true, C::br},
        {"gzip, deflate, br", false, true, C::gzip},
        {"gzip, deflate, br", true, false, C::br},
        {"gzip, deflate, br", false, false, C::identity},
        {"gzip", true, true, C::gzip},
        {"br", false, true, C::identity},
        {"br;q=0, gzip", true, true, C::gzip},
        {"gzip;q=0", false, true, C::identity},
        {"gzip;q=0.0", false, true, C::identity},
        {"gzip;q=1.0, br;q=0.5", true, true, C::gzip},
        {"gzip; q=0.8 , br ; q=0.9", true, true, C::br},
        {"gzip;q=0.5, br;q=0.5", true, true, C::br},
        {"*", true, true, C::br},
        {"*;q=0", true, true, C::identity},
        {"*, br;q=0", true, true, C::gzip},
        {"gzip;q=0, *", false, true, C::identity},
        {"", true, true, C::identity},
        {"identity", true, true, C::identity},
        {"x-gzip", false, true, C::gzip},
        {"GZIP", false, true, C::gzip},
        {"Br", true, false, C::br},
        {"gzip;q=abc", false, true, C::identity},
        {"gzip;q=2", false, true, C::identity},
        {"br;q=0.001", true, false, C::br},
        {"deflate, compress", true, true, C::identity},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.accept << " br=" << r.have_br << " gzip=" << r.have_gzip) {
            BOOST_TEST(static_cast<int>(choose_coding(r.accept, r.have_br, r.have_gzip)) ==
                       static_cast<int>(r.expected));
        }
    }
    BOOST_TEST(coding_name(C::gzip) == "gzip");
    BOOST_TEST(coding_name(C::br) == "br");
    BOOST_TEST(coding_name(C::identity).empty());
}

// ---------------------------------------------------------------- listings

BOOST_AUTO_TEST_CASE(escapes_names_for_html_and_links) {
    std::string html;
    append_html_escaped(html, "<a href=\"x\">'&'</a>");
    BOOST_TEST(html == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    std::string uri;
    append_uri_escaped(uri, "a b/c?d#e%f\xC3\xBC.txt~-_");
    BOOST_TEST(uri == "a%20b%2Fc%3Fd%23e%25f%C3%BC.txt~-_");
}

BOOST_AUTO_TEST_SUITE_END()
