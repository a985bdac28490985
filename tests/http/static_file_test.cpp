#include "http/static_file.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

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
