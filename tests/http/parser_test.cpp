#include "http/parser.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

using namespace fastfork::http;
using namespace std::literals;

namespace {

// Everything observable about one feed() result, copied out of the buffer so that results of
// different buffers and splits compare with ==.
struct snapshot {
    parser::state state = parser::state::need_more;
    error err = error::none;
    std::size_t consumed = 0;
    method m = method::other;
    std::string method_name, target, path, query;
    target_form form = target_form::origin;
    int minor = 0;
    std::vector<std::tuple<std::string, std::string, field>> headers;
    std::string host;
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0;
    bool keep_alive = false;
    bool expect_continue = false;
    bool has_upgrade = false;

    bool operator==(const snapshot&) const = default;
};

std::ostream& operator<<(std::ostream& os, const snapshot& s) {
    os << "{state=" << static_cast<int>(s.state) << " err=" << name_of(s.err) << " consumed=" << s.consumed;
    if (s.state == parser::state::done) {
        os << " method=" << s.method_name << " target=" << s.target << " path=" << s.path << " query=" << s.query
           << " form=" << static_cast<int>(s.form) << " minor=" << s.minor << " framing=" << static_cast<int>(s.framing)
           << " cl=" << s.content_length << " ka=" << s.keep_alive << " headers=[";
        for (auto& [n, v, id] : s.headers) os << n << ":" << v << "(" << static_cast<int>(id) << ") ";
        os << "]";
    }
    return os << "}";
}

snapshot capture(const parser& p, parser::result r) {
    snapshot s;
    s.state = r.state;
    s.err = r.err;
    if (r.state != parser::state::done) return s;
    const request& q = p.get();
    s.consumed = r.consumed;
    s.m = q.method;
    s.method_name = q.method_name;
    s.target = q.target;
    s.path = q.path;
    s.query = q.query;
    s.form = q.form;
    s.minor = q.version_minor;
    for (const auto& h : q.headers) s.headers.emplace_back(h.name, h.value, h.id);
    s.host = q.host;
    s.framing = q.framing;
    s.content_length = q.content_length;
    s.keep_alive = q.keep_alive;
    s.expect_continue = q.expect_continue;
    s.has_upgrade = q.has_upgrade;
    return s;
}

bool inside(std::string_view v, const char* base, std::size_t size) {
    if (v.data() == nullptr) return v.empty();
    return v.data() >= base && v.data() + v.size() <= base + size;
}

// Every view of a completed request points into [base, base + size).
bool views_inside(const parser& p, const char* base, std::size_t size) {
    const request& q = p.get();
    for (auto v : {q.method_name, q.target, q.path, q.query, q.host})
        if (!inside(v, base, size)) return false;
    for (const auto& h : q.headers)
        if (!inside(h.name, base, size) || !inside(h.value, base, size)) return false;
    return true;
}

snapshot parse_once(std::string_view raw, const limits& lim = {}, bool normalize = true) {
    std::string buf(raw);
    parser p(lim, normalize);
    auto r = p.feed(buf.data(), buf.size());
    snapshot s = capture(p, r);
    if (r.state == parser::state::done) BOOST_TEST(views_inside(p, buf.data(), buf.size()));
    return s;
}

// Beast's parsegrind: the result must not depend on how the bytes arrive. Feeds [0, i) then all
// bytes for every i (also moving the buffer in between, as the worker may), and one byte at a time.
void grind(std::string_view raw, const limits& lim = {}, bool normalize = true) {
    const snapshot expected = parse_once(raw, lim, normalize);
    const std::size_t n = raw.size();
    for (std::size_t i = 0; i <= n; ++i) {
        std::string buf(raw);
        parser p(lim, normalize);
        auto r = p.feed(buf.data(), i);
        if (r.state == parser::state::need_more) r = p.feed(buf.data(), n);
        snapshot got = capture(p, r);
        BOOST_TEST_CONTEXT("split at " << i) {
            BOOST_REQUIRE_EQUAL(got, expected);
        }

        // The same split, but the bytes move to a new buffer before the second feed.
        auto first = std::make_unique<char[]>(n + 1);
        auto second = std::make_unique<char[]>(n + 1);
        std::memcpy(first.get(), raw.data(), n);
        parser q(lim, normalize);
        auto r2 = q.feed(first.get(), i);
        if (r2.state == parser::state::need_more) {
            std::memcpy(second.get(), first.get(), n);  // keeps names canonicalized by the first feed
            std::memset(first.get(), 'X', n);           // stale views would now read garbage
            r2 = q.feed(second.get(), n);
            if (r2.state == parser::state::done) {
                BOOST_TEST_CONTEXT("moved at " << i) {
                    BOOST_REQUIRE(views_inside(q, second.get(), n));
                }
            }
        }
        BOOST_TEST_CONTEXT("moved at " << i) {
            BOOST_REQUIRE_EQUAL(capture(q, r2), expected);
        }
    }
    std::string buf(raw);
    parser p(lim, normalize);
    parser::result r;
    for (std::size_t i = 1; i <= n; ++i) {
        r = p.feed(buf.data(), i);
        if (r.state != parser::state::need_more) break;
    }
    BOOST_TEST_CONTEXT("one byte at a time") {
        BOOST_REQUIRE_EQUAL(capture(p, r), expected);
    }
}

std::string many_headers(std::size_t count) {
    std::string s = "GET /many HTTP/1.1\r\nHost: h\r\n";
    for (std::size_t i = 1; i < count; ++i)
        s += "X-Header-" + std::to_string(i) + ": value " + std::to_string(i) + "\r\n";
    return s + "\r\n";
}

const std::string& sixty_headers() {
    static const std::string s = many_headers(60);
    return s;
}

const std::string& techempower_plaintext() {
    static const std::string s =
        "GET /plaintext HTTP/1.1\r\n"
        "Host: localhost:8080\r\n"
        "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
        "Connection: keep-alive\r\n"
        "\r\n";
    return s;
}

struct accept_case {
    const char* name;
    std::string_view raw;
    method m = method::get;
    std::string_view target = "/";
    std::string_view path = "/";
    std::string_view query = "";
    target_form form = target_form::origin;
    int minor = 1;
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0;
    bool keep_alive = true;
    std::size_t header_count = 1;
    bool expect_continue = false;
    bool has_upgrade = false;
};

// Valid requests; the comments name the RFC rule each row exercises.
const std::vector<accept_case>& accept_cases() {
    static const std::vector<accept_case> cases = {
        // RFC 9112 §3.2.1 origin-form.
        {.name = "get_origin_form",
         .raw = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
         .target = "/index.html",
         .path = "/index.html"},
        {.name = "get_with_query",
         .raw = "GET /search?q=fast&x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
         .target = "/search?q=fast&x=1",
         .path = "/search",
         .query = "q=fast&x=1"},
        {.name = "query_split_at_first_question_mark",
         .raw = "GET /a?b?c HTTP/1.1\r\nHost: h\r\n\r\n",
         .target = "/a?b?c",
         .path = "/a",
         .query = "b?c"},
        {.name = "empty_query", .raw = "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n", .target = "/a?", .path = "/a"},
        {.name = "head", .raw = "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", .m = method::head},
        // RFC 9112 §6.2: Content-Length framing.
        {.name = "post_content_length",
         .raw = "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n\r\n",
         .m = method::post,
         .target = "/submit",
         .path = "/submit",
         .framing = body_framing::content_length,
         .content_length = 13,
         .header_count = 2},
        {.name = "content_length_zero",
         .raw = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
         .m = method::post,
         .framing = body_framing::content_length,
         .header_count = 2},
        {.name = "content_length_leading_zeros",
         .raw = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n",
         .m = method::put,
         .framing = body_framing::content_length,
         .content_length = 7,
         .header_count = 2},
        {.name = "content_length_max_uint64",
         .raw = "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n",
         .m = method::put,
         .framing = body_framing::content_length,
         .content_length = 18446744073709551615ull,
         .header_count = 2},
        // RFC 9110 §8.6: identical repeated values may be accepted as one.
        {.name = "duplicate_identical_content_length",
         .raw = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
         .m = method::post,
         .framing = body_framing::content_length,
         .content_length = 5,
         .header_count = 3},
        {.name = "content_length_list_of_identical_values",
         .raw = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 ,\t5\r\n\r\n",
         .m = method::post,
         .framing = body_framing::content_length,
         .content_length = 5,
         .header_count = 2},
        // RFC 9112 §7: chunked transfer coding.
        {.name = "post_chunked",
         .raw = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
         .m = method::post,
         .target = "/up",
         .path = "/up",
         .framing = body_framing::chunked,
         .header_count = 2},
        // RFC 9110 §5.6.1: empty list elements are ignored; codings are case-insensitive (§10.1.4).
        {.name = "chunked_case_insensitive_with_empty_elements",
         .raw = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n",
         .m = method::post,
         .framing = body_framing::chunked,
         .header_count = 2},
        {.name = "chunked_with_other_fields_between",
         .raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-A: b\r\nHost: h\r\n\r\n",
         .m = method::post,
         .framing = body_framing::chunked,
         .header_count = 3},
        // RFC 9112 §3.2.4 asterisk-form, OPTIONS only.
        {.name = "options_asterisk",
         .raw = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
         .m = method::options,
         .target = "*",
         .path = "",
         .form = target_form::asterisk},
        {.name = "options_origin_form",
         .raw = "OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n",
         .m = method::options,
         .target = "/x",
         .path = "/x"},
        // RFC 9112 §3.2.3 authority-form, CONNECT only.
        {.name = "connect_authority_form",
         .raw = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
         .m = method::connect,
         .target = "example.com:443",
         .path = "",
         .form = target_form::authority},
        {.name = "connect_ipv6_literal",
         .raw = "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
         .m = method::connect,
         .target = "[::1]:8443",
         .path = "",
         .form = target_form::authority},
        // RFC 9112 §3.2.2 absolute-form.
        {.name = "absolute_form",
         .raw = "GET http://example.com/path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
         .target = "http://example.com/path?q=1",
         .path = "/path",
         .query = "q=1",
         .form = target_form::absolute},
        {.name = "absolute_form_empty_path_is_slash",
         .raw = "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
         .target = "http://example.com",
         .path = "/",
         .form = target_form::absolute},
        {.name = "absolute_form_query_without_path",
         .raw = "GET https://example.com:8443?x=y HTTP/1.1\r\nHost: example.com\r\n\r\n",
         .target = "https://example.com:8443?x=y",
         .path = "/",
         .query = "x=y",
         .form = target_form::absolute},
        // RFC 9112 §9.3: HTTP/1.0 closes unless keep-alive is asked for; Host is optional in 1.0.
        {.name = "http10_without_host_closes",
         .raw = "GET / HTTP/1.0\r\n\r\n",
         .minor = 0,
         .keep_alive = false,
         .header_count = 0},
        {.name = "http10_keep_alive",
         .raw = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
         .minor = 0,
         .keep_alive = true},
        {.name = "http10_keep_alive_and_close",
         .raw = "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
         .minor = 0,
         .keep_alive = false},
        {.name = "http11_connection_close",
         .raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
         .keep_alive = false,
         .header_count = 2},
        {.name = "connection_token_list",
         .raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade ,CLOSE\r\nUpgrade: websocket\r\n\r\n",
         .keep_alive = false,
         .header_count = 3,
         .has_upgrade = true},
        // RFC 9110 §10.1.1.
        {.name = "expect_continue",
         .raw = "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
         .m = method::put,
         .target = "/f",
         .path = "/f",
         .framing = body_framing::content_length,
         .content_length = 3,
         .header_count = 3,
         .expect_continue = true},
        {.name = "many_headers", .raw = sixty_headers(), .target = "/many", .path = "/many", .header_count = 60},
        // RFC 9110 §7.2 / RFC 3986 §3.2.2: IP literals, ports and reg-name characters in Host.
        {.name = "host_forms", .raw = "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n"},
        {.name = "host_reg_name_characters",
         .raw = "GET / HTTP/1.1\r\nHost: my_host-1.example~%41!$&'()*+,;=:80\r\n\r\n"},
        // RFC 9110 §5.5: obs-text (0x80-0xFF) is allowed in values, HTAB and SP inside them.
        {.name = "obs_text_in_value",
         .raw = "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \xff\r\n\r\n",
         .header_count = 2},
        {.name = "htab_inside_value", .raw = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb\r\n\r\n", .header_count = 2},
        {.name = "ows_trimmed_and_empty_values",
         .raw = "GET / HTTP/1.1\r\nHost:\r\nX-A: \t value  with  spaces \t \r\nX-Empty:   \r\n\r\n",
         .header_count = 3},
        {.name = "all_tchar_symbols_in_name",
         .raw = "GET / HTTP/1.1\r\nHost: h\r\nX!#$%&'*+-.^_`|~1: v\r\n\r\n",
         .header_count = 2},
        // RFC 9112 §2.2: empty lines before the request-line are ignored.
        {.name = "leading_empty_lines", .raw = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"},
        // RFC 9110 §9.1: methods are case-sensitive tokens; unknown ones are `other`.
        {.name = "extension_method",
         .raw = "PURGE /c HTTP/1.1\r\nHost: h\r\n\r\n",
         .m = method::other,
         .target = "/c",
         .path = "/c"},
        {.name = "lowercase_method_is_not_get", .raw = "get / HTTP/1.1\r\nHost: h\r\n\r\n", .m = method::other},
        {.name = "all_registered_methods_delete",
         .raw = "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n",
         .m = method::delete_,
         .target = "/x",
         .path = "/x"},
        {.name = "obs_bytes_and_percent_in_target",
         .raw = "GET /caf%C3%A9/\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
         .target = "/caf%C3%A9/\xc3\xa9",
         .path = "/caf%C3%A9/\xc3\xa9"},
        {.name = "techempower_plaintext",
         .raw = techempower_plaintext(),
         .target = "/plaintext",
         .path = "/plaintext",
         .header_count = 3},
    };
    return cases;
}

struct reject_case {
    const char* name;
    std::string_view raw;
    error err;
    unsigned status;
    limits lim = {};
};

limits small_request_line() {
    limits l;
    l.max_request_line = 32;
    return l;
}
limits small_head() {
    limits l;
    l.max_head = 64;
    return l;
}
limits two_headers() {
    limits l;
    l.max_headers = 2;
    return l;
}

// Invalid requests, each with the rule that makes it invalid. The request-smuggling vectors are
// all here: a 400 (or 501/505) and a closed connection is the only safe answer to each.
const std::vector<reject_case>& reject_cases() {
    static const std::vector<reject_case> cases = {
        // RFC 9112 §6.1/§6.3: Content-Length together with Transfer-Encoding.
        {"cl_with_te", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         error::content_length_with_transfer_encoding, 400},
        {"te_with_cl", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
         error::content_length_with_transfer_encoding, 400},
        // RFC 9112 §6.3 (5) / RFC 9110 §8.6: differing Content-Length values.
        {"cl_conflict_two_fields", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
         error::conflicting_content_length, 400},
        {"cl_conflict_in_list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
         error::conflicting_content_length, 400},
        // RFC 9110 §8.6: Content-Length = 1*DIGIT.
        {"cl_plus_sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", error::bad_content_length, 400},
        {"cl_minus_sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", error::bad_content_length, 400},
        {"cl_inner_space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n", error::bad_content_length, 400},
        {"cl_hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", error::bad_content_length, 400},
        {"cl_leading_space_hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  0x10\r\n\r\n",
         error::bad_content_length, 400},
        {"cl_empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", error::bad_content_length, 400},
        {"cl_empty_list_element", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,,5\r\n\r\n",
         error::bad_content_length, 400},
        {"cl_overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551616\r\n\r\n",
         error::bad_content_length, 400},
        // RFC 9112 §6.3: chunked must be the final coding of a request, else 400.
        {"te_chunked_then_gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
         error::bad_transfer_encoding, 400},
        {"te_chunked_then_gzip_fields",
         "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
         error::bad_transfer_encoding, 400},
        // RFC 9112 §6.1: chunked MUST NOT be applied more than once.
        {"te_chunked_twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
         error::bad_transfer_encoding, 400},
        {"te_chunked_twice_fields",
         "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         error::bad_transfer_encoding, 400},
        // RFC 9112 §6.1: a transfer coding we do not implement: 501.
        {"te_gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
         error::unsupported_transfer_encoding, 501},
        {"te_gzip_then_chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
         error::unsupported_transfer_encoding, 501},
        {"te_gzip_then_chunked_fields",
         "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
         error::unsupported_transfer_encoding, 501},
        {"te_identity", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
         error::unsupported_transfer_encoding, 501},
        // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
        {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", error::bad_transfer_encoding, 400},
        // RFC 9110 §10.1.4: transfer-coding = token; an empty value lists no coding.
        {"te_empty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", error::bad_transfer_encoding, 400},
        {"te_only_commas", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , ,\r\n\r\n", error::bad_transfer_encoding,
         400},
        {"te_not_a_token", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun ked\r\n\r\n",
         error::bad_transfer_encoding, 400},
        {"te_chunked_with_parameter", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
         error::bad_transfer_encoding, 400},
        // RFC 9112 §5.2: obs-fold.
        {"obs_fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", error::obs_fold, 400},
        {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", error::obs_fold, 400},
        // RFC 9112 §2.2: whitespace between the start-line and the first field.
        {"whitespace_before_first_field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", error::obs_fold, 400},
        // RFC 9112 §5.1: no whitespace between field name and colon.
        {"space_before_colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", error::space_before_colon, 400},
        {"tab_before_colon", "GET / HTTP/1.1\r\nHost: h\r\nX-A\t: v\r\n\r\n", error::space_before_colon, 400},
        // RFC 9110 §5.1: field-name = token.
        {"empty_field_name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", error::bad_field_name, 400},
        {"bad_char_in_field_name", "GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n", error::bad_field_name, 400},
        {"space_inside_field_name", "GET / HTTP/1.1\r\nHost: h\r\nX A: v\r\n\r\n", error::bad_field_name, 400},
        {"field_line_without_colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", error::bad_field_name, 400},
        {"obs_text_in_field_name", "GET / HTTP/1.1\r\nHost: h\r\nX-\xe9: v\r\n\r\n", error::bad_field_name, 400},
        // RFC 9110 §5.5: CR, LF, NUL and other CTLs are invalid in values.
        {"nul_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"sv, error::bad_field_value, 400},
        {"ctl_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n", error::bad_field_value, 400},
        {"del_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fz\r\n\r\n", error::bad_field_value, 400},
        {"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", error::bad_field_value, 400},
        // RFC 9112 §2.2: we require CRLF (the lone-LF leniency is a smuggling vector).
        {"bare_lf_after_request_line", "GET / HTTP/1.1\nHost: h\r\n\r\n", error::bad_line_ending, 400},
        {"bare_lf_after_field", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", error::bad_line_ending, 400},
        {"bare_lf_ends_head", "GET / HTTP/1.1\r\nHost: h\r\n\n", error::bad_line_ending, 400},
        {"bare_lf_leading_line", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_line_ending, 400},
        {"bare_cr_in_request_line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_line_ending, 400},
        {"bare_cr_in_field_name", "GET / HTTP/1.1\r\nHost: h\r\nX\r: v\r\n\r\n", error::bad_line_ending, 400},
        {"cr_cr_lf", "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", error::bad_field_value, 400},
        // RFC 9112 §3.2: exactly one Host in HTTP/1.1, with a valid value (RFC 9110 §7.2).
        {"host_twice", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", error::duplicate_host, 400},
        {"host_twice_same_value", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", error::duplicate_host, 400},
        {"host_twice_http10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", error::duplicate_host, 400},
        {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", error::bad_field_value, 400},
        {"host_with_path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", error::bad_field_value, 400},
        {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", error::bad_field_value, 400},
        {"host_missing", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", error::missing_host, 400},
        // RFC 9112 §2.3 / RFC 9110 §15.6.6: a well-formed version we do not speak is 505.
        {"version_2_0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", error::unsupported_version, 505},
        {"version_1_2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", error::unsupported_version, 505},
        {"version_3_0", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", error::unsupported_version, 505},
        {"version_0_9", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", error::unsupported_version, 505},
        // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
        {"version_not_digit", "GET / HTTP/1.x\r\nHost: h\r\n\r\n", error::bad_version, 400},
        {"version_lowercase", "GET / http/1.1\r\nHost: h\r\n\r\n", error::bad_version, 400},
        {"version_no_dot", "GET / HTTP/11\r\nHost: h\r\n\r\n", error::bad_version, 400},
        {"version_trailing_space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", error::bad_version, 400},
        {"version_two_digit_major", "GET / HTTP/10.1\r\nHost: h\r\n\r\n", error::bad_version, 400},
        {"target_with_space", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_version, 400},
        // RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
        {"http09_request_line", "GET /\r\n\r\n", error::bad_request_line, 400},
        {"method_only", "GET\r\nHost: h\r\n\r\n", error::bad_request_line, 400},
        // RFC 9110 §9.1: method = token.
        {"method_with_bad_char", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_method, 400},
        {"method_with_at", "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_method, 400},
        {"method_empty", " / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_method, 400},
        {"method_with_nul", "GE\0T / HTTP/1.1\r\nHost: h\r\n\r\n"sv, error::bad_method, 400},
        {"method_tab_separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_method, 400},
        // RFC 9112 §3.2: the target form must fit the method; no CTL in it.
        {"double_space_before_target", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"asterisk_with_get", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"authority_with_get", "GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"origin_with_connect", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"connect_without_port", "CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"connect_with_userinfo", "CONNECT u@example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"relative_target", "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"absolute_form_empty_host", "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"del_in_target", "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", error::bad_target, 400},
        {"nul_in_target", "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n"sv, error::bad_target, 400},
        // RFC 9112 §3: a request-target longer than the server parses MUST get 414.
        {"request_line_too_long", "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: h\r\n\r\n",
         error::request_line_too_long, 414, small_request_line()},
        {"request_line_too_long_incomplete", "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         error::request_line_too_long, 414, small_request_line()},
        // RFC 6585 §5: header section too large, by size and by count: 431.
        {"header_section_too_large",
         "GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
         error::header_too_large, 431, small_head()},
        {"header_section_too_large_incomplete",
         "GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         error::header_too_large, 431, small_head()},
        {"too_many_headers", "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", error::too_many_headers, 431,
         two_headers()},
        {"too_many_leading_empty_lines",
         "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
         "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
         error::header_too_large, 431, small_head()},
    };
    return cases;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_parser)

BOOST_AUTO_TEST_CASE(accepts_valid_requests) {
    for (const auto& c : accept_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            std::string buf(c.raw);
            parser p;
            auto r = p.feed(buf.data(), buf.size());
            BOOST_REQUIRE((r.state == parser::state::done));
            BOOST_TEST((r.err == error::none));
            BOOST_TEST(r.consumed == buf.size());
            const request& q = p.get();
            BOOST_TEST(static_cast<int>(q.method) == static_cast<int>(c.m));
            BOOST_TEST(q.target == c.target);
            BOOST_TEST(q.path == c.path);
            BOOST_TEST(q.query == c.query);
            BOOST_TEST(static_cast<int>(q.form) == static_cast<int>(c.form));
            BOOST_TEST(q.version_minor == c.minor);
            BOOST_TEST(static_cast<int>(q.framing) == static_cast<int>(c.framing));
            BOOST_TEST(q.content_length == c.content_length);
            BOOST_TEST(q.keep_alive == c.keep_alive);
            BOOST_TEST(q.headers.size() == c.header_count);
            BOOST_TEST(q.expect_continue == c.expect_continue);
            BOOST_TEST(q.has_upgrade == c.has_upgrade);
            BOOST_TEST(views_inside(p, buf.data(), buf.size()));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_first_line_that_cannot_be_a_request_line_fails_before_its_end) {
    // A TLS ClientHello on a plain port (record type 0x16, version 0x03 0x01), and other bytes
    // that no method may contain, are refused at once: no line end or timeout is waited for.
    for (std::string_view raw : {"\x16\x03\x01\x02\x00\x01"sv, "\x16"sv, "GE(T"sv, "GET\t/"sv, "\x80\x01"sv}) {
        BOOST_TEST_CONTEXT(raw.size()) {
            std::string buf(raw);
            parser p;
            auto r = p.feed(buf.data(), buf.size());
            BOOST_TEST((r.state == parser::state::error));
            BOOST_TEST(name_of(r.err) == name_of(error::bad_method));
            BOOST_TEST(status_of(r.err) == 400u);
        }
    }
    // A partial method, a method and its space, and leading empty lines still wait for more.
    for (std::string_view raw : {"GE"sv, "GET"sv, "GET /x"sv, "\r\n"sv, "\r\nPOS"sv, "GET\r"sv}) {
        BOOST_TEST_CONTEXT(raw) {
            std::string buf(raw);
            parser p;
            BOOST_TEST((p.feed(buf.data(), buf.size()).state == parser::state::need_more));
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_invalid_requests) {
    for (const auto& c : reject_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            std::string buf(c.raw);
            parser p(c.lim);
            auto r = p.feed(buf.data(), buf.size());
            BOOST_TEST((r.state == parser::state::error));
            BOOST_TEST(name_of(r.err) == name_of(c.err));
            BOOST_TEST(status_of(r.err) == c.status);
        }
    }
}

BOOST_AUTO_TEST_CASE(accepted_requests_parse_the_same_at_every_split) {
    for (const auto& c : accept_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            grind(c.raw);
            grind(c.raw, {}, false);
        }
    }
}

BOOST_AUTO_TEST_CASE(rejected_requests_fail_the_same_at_every_split) {
    for (const auto& c : reject_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            grind(c.raw, c.lim);
        }
    }
}

BOOST_AUTO_TEST_CASE(no_prefix_of_a_valid_request_is_an_error) {
    for (const auto& c : accept_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            for (std::size_t i = 0; i < c.raw.size(); ++i) {
                std::string buf(c.raw.substr(0, i));
                parser p;
                BOOST_TEST_CONTEXT("prefix " << i) {
                    BOOST_REQUIRE((p.feed(buf.data(), buf.size()).state == parser::state::need_more));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(parses_header_fields_with_ids_and_trimmed_values) {
    std::string buf =
        "POST /x HTTP/1.1\r\nhost: example.com\r\nCONTENT-length: 3\r\nX-Custom:  a b \t\r\nAccept:\r\n\r\n";
    parser p;
    auto r = p.feed(buf.data(), buf.size());
    BOOST_REQUIRE((r.state == parser::state::done));
    const auto& h = p.get().headers;
    BOOST_REQUIRE(h.size() == 4u);
    BOOST_TEST(h[0].name == "Host");
    BOOST_TEST(h[0].value == "example.com");
    BOOST_TEST((h[0].id == field::host));
    BOOST_TEST(h[1].name == "Content-Length");
    BOOST_TEST((h[1].id == field::content_length));
    BOOST_TEST(h[2].name == "X-Custom");
    BOOST_TEST(h[2].value == "a b");
    BOOST_TEST((h[2].id == field::unknown));
    BOOST_TEST(h[3].value == "");
    BOOST_TEST((h[3].id == field::accept));
    BOOST_TEST(p.get().host == "example.com");
    BOOST_TEST((h.get(field::content_length) == "3"));
    BOOST_TEST(h.get("x-custom") == "a b");
    BOOST_TEST(h.get("CONTENT-LENGTH") == "3");
}

BOOST_AUTO_TEST_CASE(normalizes_field_names_in_place_when_enabled) {
    std::string buf = "GET / HTTP/1.1\r\nhOST: h\r\ncontent-TYPE: text/plain\r\nx-request-ID: 7\r\netag: e\r\n\r\n";
    parser p(limits{}, true);
    BOOST_REQUIRE((p.feed(buf.data(), buf.size()).state == parser::state::done));
    const auto& h = p.get().headers;
    BOOST_TEST(h[0].name == "Host");
    BOOST_TEST(h[1].name == "Content-Type");
    BOOST_TEST(h[2].name == "X-Request-Id");
    BOOST_TEST(h[3].name == "Etag");  // canonicalize_field_name's rule, not the registry spelling
    BOOST_TEST((h[3].id == field::etag));
    BOOST_TEST(buf.find("content-TYPE") == std::string::npos);
    BOOST_TEST(buf.find("Content-Type: text/plain") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(keeps_field_names_as_received_when_normalization_is_off) {
    std::string buf = "GET / HTTP/1.1\r\nhOST: h\r\ncontent-TYPE: text/plain\r\n\r\n";
    const std::string original = buf;
    parser p(limits{}, false);
    BOOST_REQUIRE((p.feed(buf.data(), buf.size()).state == parser::state::done));
    const auto& h = p.get().headers;
    BOOST_TEST(h[0].name == "hOST");
    BOOST_TEST((h[0].id == field::host));
    BOOST_TEST(h[1].name == "content-TYPE");
    BOOST_TEST((h[1].id == field::content_type));
    BOOST_TEST(buf == original);
    p.reset();
    p.set_normalize_names(true);
    BOOST_REQUIRE((p.feed(buf.data(), buf.size()).state == parser::state::done));
    BOOST_TEST(p.get().headers[1].name == "Content-Type");
}

BOOST_AUTO_TEST_CASE(normalization_matches_canonicalize_field_name) {
    for (std::string name : {"a", "A-B", "x-forwarded-FOR", "--x", "a1-b2", "Foo_bar-baz", "ALL-CAPS-NAME-Z"}) {
        std::string buf = "GET / HTTP/1.1\r\nHost: h\r\n" + name + ": v\r\n\r\n";
        parser p;
        BOOST_REQUIRE((p.feed(buf.data(), buf.size()).state == parser::state::done));
        std::string expected = name;
        canonicalize_field_name(expected.data(), expected.size());
        BOOST_TEST(p.get().headers[1].name == expected);
    }
}

BOOST_AUTO_TEST_CASE(pipelined_requests_consume_exactly_the_first_head) {
    const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string second = "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    std::string buf = first + second;
    parser p;
    auto r = p.feed(buf.data(), buf.size());
    BOOST_REQUIRE((r.state == parser::state::done));
    BOOST_TEST(r.consumed == first.size());
    BOOST_TEST(p.get().target == "/1");
    BOOST_TEST(p.get().keep_alive);

    p.reset();
    r = p.feed(buf.data() + first.size(), buf.size() - first.size());
    BOOST_REQUIRE((r.state == parser::state::done));
    BOOST_TEST(r.consumed == second.size());
    BOOST_TEST(p.get().target == "/2");
    BOOST_TEST(!p.get().keep_alive);
}

BOOST_AUTO_TEST_CASE(body_bytes_after_the_head_are_not_consumed) {
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    std::string buf = head + "hello";
    grind(buf);
    parser p;
    auto r = p.feed(buf.data(), buf.size());
    BOOST_REQUIRE((r.state == parser::state::done));
    BOOST_TEST(r.consumed == head.size());
}

BOOST_AUTO_TEST_CASE(result_is_sticky_until_reset) {
    std::string buf = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    parser p;
    auto r1 = p.feed(buf.data(), buf.size());
    auto r2 = p.feed(buf.data(), buf.size());
    BOOST_TEST(r1.consumed == r2.consumed);
    BOOST_TEST((r2.state == parser::state::done));

    std::string bad = "GET / HTTP/1.1\r\nHost : h\r\n\r\n";
    p.reset();
    BOOST_TEST((p.feed(bad.data(), bad.size()).err == error::space_before_colon));
    BOOST_TEST((p.feed(buf.data(), buf.size()).err == error::space_before_colon));
    p.reset();
    BOOST_TEST((p.feed(buf.data(), buf.size()).state == parser::state::done));
    BOOST_TEST(p.get().headers.size() == 1u);
}

BOOST_AUTO_TEST_CASE(reset_clears_the_previous_request) {
    std::string a =
        "POST /a?x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\nExpect: 100-continue\r\n"
        "Upgrade: h2c\r\n\r\n";
    std::string b = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    parser p;
    BOOST_REQUIRE((p.feed(a.data(), a.size()).state == parser::state::done));
    p.reset();
    BOOST_REQUIRE((p.feed(b.data(), b.size()).state == parser::state::done));
    const snapshot fresh = parse_once(b);
    BOOST_TEST((capture(p, parser::result{b.size(), parser::state::done, error::none}) == fresh));
}

BOOST_AUTO_TEST_CASE(rebase_repoints_views_after_the_buffer_moves) {
    std::string a = "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: b\r\n\r\n";
    std::string b = a;
    parser p;
    BOOST_REQUIRE((p.feed(a.data(), a.size()).state == parser::state::done));
    p.rebase(a.data(), b.data());
    a.assign(a.size(), 'X');
    BOOST_TEST(views_inside(p, b.data(), b.size()));
    BOOST_TEST(p.get().path == "/path");
    BOOST_TEST(p.get().query == "q=1");
    BOOST_TEST(p.get().host == "example.com");
    BOOST_TEST(p.get().headers.get("X-A") == "b");
}

BOOST_AUTO_TEST_CASE(absolute_form_empty_path_view_survives_rebase) {
    std::string a = "GET http://example.com HTTP/1.1\r\nHost: h\r\n\r\n";
    std::string b = a;
    parser p;
    BOOST_REQUIRE((p.feed(a.data(), a.size()).state == parser::state::done));
    p.rebase(a.data(), b.data());
    BOOST_TEST(p.get().path == "/");
    BOOST_TEST(inside(p.get().path, b.data(), b.size()));
}

BOOST_AUTO_TEST_CASE(request_line_at_the_limit_is_accepted) {
    limits lim;
    lim.max_request_line = 16;
    std::string line = "GET /23456789 HTTP/1.1";  // 22 bytes
    lim.max_request_line = line.size();
    std::string ok = line + "\r\nHost: h\r\n\r\n";
    parser p(lim);
    BOOST_TEST((p.feed(ok.data(), ok.size()).state == parser::state::done));
    grind(ok, lim);
    lim.max_request_line = line.size() - 1;
    parser q(lim);
    BOOST_TEST((q.feed(ok.data(), ok.size()).err == error::request_line_too_long));
    grind(ok, lim);
}

BOOST_AUTO_TEST_CASE(head_at_the_limit_is_accepted) {
    std::string ok = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 0123456789\r\n\r\n";
    limits lim;
    lim.max_head = ok.size();
    parser p(lim);
    BOOST_TEST((p.feed(ok.data(), ok.size()).state == parser::state::done));
    grind(ok, lim);
    lim.max_head = ok.size() - 1;
    parser q(lim);
    BOOST_TEST((q.feed(ok.data(), ok.size()).err == error::header_too_large));
    grind(ok, lim);
}

BOOST_AUTO_TEST_CASE(detects_oversized_request_line_before_its_end_arrives) {
    limits lim;
    lim.max_request_line = 100;
    std::string buf = "GET /" + std::string(200, 'a');
    parser p(lim);
    BOOST_TEST((p.feed(buf.data(), 50).state == parser::state::need_more));
    auto r = p.feed(buf.data(), buf.size());
    BOOST_TEST((r.err == error::request_line_too_long));
    BOOST_TEST(status_of(r.err) == 414u);
}

BOOST_AUTO_TEST_CASE(detects_oversized_header_section_before_its_end_arrives) {
    std::string buf = "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + std::string(20000, 'a');
    parser p;
    auto r = p.feed(buf.data(), buf.size());
    BOOST_TEST((r.err == error::header_too_large));
    BOOST_TEST(status_of(r.err) == 431u);
}

BOOST_AUTO_TEST_CASE(max_headers_is_capped_by_header_capacity) {
    limits lim;
    lim.max_headers = 100000;
    lim.max_head = 1 << 20;
    std::string at_capacity = many_headers(header_capacity);
    parser p(lim);
    BOOST_TEST((p.feed(at_capacity.data(), at_capacity.size()).state == parser::state::done));
    BOOST_TEST(p.get().headers.size() == header_capacity);
    std::string over = many_headers(header_capacity + 1);
    parser q(lim);
    BOOST_TEST((q.feed(over.data(), over.size()).err == error::too_many_headers));
}

BOOST_AUTO_TEST_CASE(default_limit_allows_one_hundred_headers) {
    std::string ok = many_headers(100);
    std::string over = many_headers(101);
    parser p;
    BOOST_TEST((p.feed(ok.data(), ok.size()).state == parser::state::done));
    parser q;
    BOOST_TEST((q.feed(over.data(), over.size()).err == error::too_many_headers));
}

BOOST_AUTO_TEST_CASE(long_values_and_targets_are_validated_in_full) {
    // Exercises the vectorized scan on long inputs, with the bad byte at every offset.
    for (std::size_t at = 0; at < 70; ++at) {
        std::string value(70, 'v');
        value[at] = '\x01';
        std::string buf = "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + value + "\r\n\r\n";
        parser p;
        BOOST_TEST_CONTEXT("offset " << at) {
            BOOST_TEST((p.feed(buf.data(), buf.size()).err == error::bad_field_value));
        }
        std::string target = "/" + std::string(70, 't');
        target[at + 1] = '\t';
        std::string req = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
        parser q;
        BOOST_TEST_CONTEXT("target offset " << at) {
            BOOST_TEST((q.feed(req.data(), req.size()).err == error::bad_target));
        }
    }
}

BOOST_AUTO_TEST_CASE(error_precedence_follows_line_order) {
    // The first offending line decides, whatever follows it.
    std::string a = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: x\r\n\r\n";
    parser p;
    BOOST_TEST((p.feed(a.data(), a.size()).err == error::duplicate_host));
    // Framing is judged at the end of the head: CL + TE wins over the codings.
    std::string b = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n";
    parser q;
    BOOST_TEST((q.feed(b.data(), b.size()).err == error::content_length_with_transfer_encoding));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_error)

BOOST_AUTO_TEST_CASE(maps_each_error_to_its_status) {
    BOOST_TEST((status_of(error::bad_request_line) == 400u));
    BOOST_TEST((status_of(error::obs_fold) == 400u));
    BOOST_TEST((status_of(error::content_length_with_transfer_encoding) == 400u));
    BOOST_TEST((status_of(error::bad_transfer_encoding) == 400u));
    BOOST_TEST((status_of(error::bad_chunk_size) == 400u));
    BOOST_TEST((status_of(error::unsupported_version) == 505u));
    BOOST_TEST((status_of(error::request_line_too_long) == 414u));
    BOOST_TEST((status_of(error::header_too_large) == 431u));
    BOOST_TEST((status_of(error::too_many_headers) == 431u));
    BOOST_TEST((status_of(error::unsupported_transfer_encoding) == 501u));
    BOOST_TEST((status_of(error::body_too_large) == 413u));
}

BOOST_AUTO_TEST_CASE(names_are_unique_and_stable) {
    std::vector<std::string_view> seen;
    for (int i = 0; i <= static_cast<int>(error::body_too_large); ++i) {
        auto name = name_of(static_cast<error>(i));
        BOOST_TEST(!name.empty());
        BOOST_TEST(name != "unknown");
        for (auto s : seen) BOOST_TEST(s != name);
        seen.push_back(name);
    }
    BOOST_TEST((name_of(error::obs_fold) == "obs_fold"));
    BOOST_TEST((name_of(error::content_length_with_transfer_encoding) == "content_length_with_transfer_encoding"));
}

BOOST_AUTO_TEST_CASE(converts_to_error_code_in_the_http_category) {
    std::error_code ec = error::duplicate_host;
    BOOST_TEST((ec.value() == static_cast<int>(error::duplicate_host)));
    BOOST_TEST(std::string_view(ec.category().name()) == "fastfork.http");
    BOOST_TEST(ec.message() == "duplicate Host header");
    BOOST_TEST(&ec.category() == &http_category());
    BOOST_TEST(!std::error_code(error::none));
    BOOST_TEST((ec == make_error_code(error::duplicate_host)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_method)

BOOST_AUTO_TEST_CASE(parses_registered_methods_case_sensitively) {
    const std::pair<std::string_view, method> known[] = {
        {"GET", method::get},         {"HEAD", method::head},      {"POST", method::post},
        {"PUT", method::put},         {"DELETE", method::delete_}, {"CONNECT", method::connect},
        {"OPTIONS", method::options}, {"TRACE", method::trace},    {"PATCH", method::patch},
    };
    for (auto [token, m] : known) {
        BOOST_TEST((parse_method(token) == m));
        BOOST_TEST(to_string(m) == token);
    }
    BOOST_TEST((parse_method("get") == method::other));
    BOOST_TEST((parse_method("PURGE") == method::other));
    BOOST_TEST((parse_method("") == method::other));
    BOOST_TEST((parse_method("GETS") == method::other));
    BOOST_TEST((to_string(method::other) == ""));
}

BOOST_AUTO_TEST_SUITE_END()
