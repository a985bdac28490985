#include "http/parser.hpp"

#include <array>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "http/rfc9110.hpp"

namespace fastfork::http {

namespace {

constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

// RFC 9112 §3.2: the request-target is delimited by SP and may not contain CTLs. Bytes above 0x7E
// are not valid URI characters (RFC 3986 §2), but they cannot confuse framing, so they are left to
// the handler, like nginx does.
constexpr std::array<bool, 256> make_target_table() noexcept {
    std::array<bool, 256> t{};
    for (int c = 0x21; c < 0x100; ++c) t[c] = c != 0x7F;
    return t;
}
constexpr auto target_table = make_target_table();

// Field names are canonicalized in the same pass that checks their characters. Entry
// [upper * 256 + c] is the canonical form of tchar `c` (upper case when `upper`, i.e. at the start
// or after '-', lower case elsewhere, as canonicalize_field_name() does), or 0 when `c` is not a
// tchar and so ends the name.
constexpr std::array<char, 512> make_name_table() noexcept {
    std::array<char, 512> t{};
    for (int c = 0; c < 256; ++c) {
        if (!tchar_table[c]) continue;
        int lower = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
        int upper = (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
        t[c] = static_cast<char>(lower);
        t[256 + c] = static_cast<char>(upper);
    }
    return t;
}
constexpr auto name_table = make_name_table();

// RFC 9110 §7.2: Host = uri-host [ ":" port ], where uri-host is an IP-literal ("[...]"), an IPv4
// address or a reg-name (RFC 3986 §3.2.2: unreserved / pct-encoded / sub-delims). Only the
// character set is checked: it keeps '/', '?', '#', '@', whitespace and obs-text out of a value
// that handlers and logs use as a host name.
constexpr std::array<bool, 256> make_host_table() noexcept {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-._~%!$&'()*+,;=:[]")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto host_table = make_host_table();

bool is_valid_host(std::string_view v) noexcept {
    for (char c : v)
        if (!host_table[static_cast<unsigned char>(c)]) return false;
    return true;
}

inline bool is_target_char(char c) noexcept {
    return target_table[static_cast<unsigned char>(c)];
}
inline bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
inline bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Returns the first CTL other than HTAB (DEL included) in [p, end), or `end`. No such byte may
// appear in a head line: RFC 9110 §5.5 allows VCHAR, obs-text (0x80-0xFF), SP and HTAB in field
// values (a recipient of CR, LF or NUL MUST reject or replace them; we reject), and the
// request-line is tokens, a target without CTLs and a version. So in a valid head the first such
// byte of a line is the CR of its CRLF: one pass finds the end of the line and validates it.
inline const char* find_ctl(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
    const __m128i limit = _mm_set1_epi8(0x1F);
    const __m128i tab = _mm_set1_epi8('\t');
    const __m128i del = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Unsigned x <= 0x1F is min(x, 0x1F) == x; bytes >= 0x80 (obs-text) are allowed.
        __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, limit), x);
        ctl = _mm_andnot_si128(_mm_cmpeq_epi8(x, tab), ctl);
        ctl = _mm_or_si128(ctl, _mm_cmpeq_epi8(x, del));
        int mask = _mm_movemask_epi8(ctl);
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    for (; p < end; ++p) {
        auto c = static_cast<unsigned char>(*p);
        if ((c < 0x20 && c != '\t') || c == 0x7F) return p;
    }
    return end;
}

// for_each_list_element with a status: stops at the first element for which `f` returns an error
// and returns it; error::none when every element passed.
template <class F>
error for_each_element(std::string_view list, F&& f) noexcept {
    error e = error::none;
    for_each_list_element(list, [&](std::string_view element) noexcept {
        e = f(element);
        return e != error::none;
    });
    return e;
}

// RFC 9112 §6.2 / RFC 9110 §8.6: Content-Length = 1*DIGIT. A list of identical values ("5, 5",
// which a proxy joining duplicate fields produces) is accepted as one; differing values are
// conflicting_content_length. Signs, inner spaces, hex and empty elements are bad_content_length.
error parse_content_length(std::string_view value, bool& seen, std::uint64_t& length) noexcept {
    return for_each_element(value, [&](std::string_view element) noexcept {
        if (element.empty()) return error::bad_content_length;
        std::uint64_t v = 0;
        for (char c : element) {
            if (!is_digit(c)) return error::bad_content_length;
            auto d = static_cast<std::uint64_t>(c - '0');
            if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return error::bad_content_length;
            v = v * 10 + d;
        }
        if (seen && v != length) return error::conflicting_content_length;
        seen = true;
        length = v;
        return error::none;
    });
}

// RFC 9112 §3.2.3: authority-form = uri-host ":" port, used only by CONNECT.
bool is_authority_form(std::string_view t) noexcept {
    std::size_t colon = t.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == t.size()) return false;
    for (std::size_t i = colon + 1; i < t.size(); ++i)
        if (!is_digit(t[i])) return false;
    // A userinfo, path, query or fragment has no place in it (RFC 9110 §4.2.4 forbids userinfo).
    return t.substr(0, colon).find_first_of("/?#@") == std::string_view::npos;
}

// RFC 9112 §3.2.2: absolute-form = absolute-URI. We accept scheme "://" authority [path] ["?" query]
// with a non-empty authority (RFC 9110 §4.2.1: an http URI with an empty host is invalid).
bool split_absolute_form(std::string_view t, std::string_view& path, std::string_view& query) noexcept {
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
    std::size_t i = 0;
    if (t.empty() || !is_alpha(t[0])) return false;
    while (i < t.size() && (is_alpha(t[i]) || is_digit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.')) ++i;
    if (t.substr(i, 3) != "://") return false;
    const std::size_t authority = i + 3;
    std::size_t end = t.find_first_of("/?", authority);
    if (end == std::string_view::npos) end = t.size();
    if (end == authority) return false;
    std::size_t q = t.find('?', end);
    if (q == std::string_view::npos) {
        path = t.substr(end);
    } else {
        path = t.substr(end, q - end);
        query = t.substr(q + 1);
    }
    // An empty path means "/" (RFC 9112 §3.2.1). The view must point into the fed buffer so that
    // request::rebase() keeps it valid, so it borrows the second '/' of "://".
    if (path.empty()) path = t.substr(authority - 1, 1);
    return true;
}

}  // namespace

void parser::reset() noexcept {
    scanned_ = 0;
    line_start_ = 0;
    skipped_ = 0;
    base_ = nullptr;
    final_ = result{};
    request_line_seen_ = false;
    line_dirty_ = false;
    host_seen_ = false;
    content_length_seen_ = false;
    te_seen_ = false;
    te_last_chunked_ = false;
    te_other_ = false;
    te_chunked_ = 0;
    connection_close_ = false;
    connection_keep_alive_ = false;
    request_.clear();
}

parser::result parser::fail(error e) noexcept {
    final_ = result{0, state::error, e};
    return final_;
}

parser::result parser::feed(char* data, std::size_t size) noexcept {
    if (final_.state != state::need_more) return final_;
    if (size < scanned_) return result{};  // a shorter feed breaks the contract; nothing new to scan
    // The worker may move its buffer between two feeds of an incomplete head; the views taken
    // from complete lines then follow the bytes.
    if (base_ != nullptr && base_ != data) request_.rebase(base_, data);
    base_ = data;

    // Only complete lines are parsed, each once, in order; the tail of an incomplete line is
    // checked against the limits only. Every decision therefore depends on the bytes up to the
    // line that triggers it, which is what makes the result independent of how input is split.
    while (scanned_ < size) {
        std::size_t lf = 0;
        bool clean = false;
        if (!line_dirty_) {
            // Fast path: the first CTL of a valid line is the CR of its CRLF.
            const auto k = static_cast<std::size_t>(find_ctl(data + scanned_, data + size) - data);
            if (k == size) {
                scanned_ = size;
                break;
            }
            if (data[k] == '\r' && k + 1 == size) {
                scanned_ = k;  // the LF may come with the next feed
                break;
            }
            if (data[k] == '\r' && data[k + 1] == '\n') {
                lf = k + 1;
                clean = true;
            } else {
                // A bare CR or LF or another CTL: find the end of the line and let the checking
                // path of on_line() decide which error it is (limits come first).
                line_dirty_ = true;
                scanned_ = k;
            }
        }
        if (!clean) {
            const void* p = std::memchr(data + scanned_, '\n', size - scanned_);
            if (p == nullptr) {
                scanned_ = size;
                break;
            }
            lf = static_cast<std::size_t>(static_cast<const char*>(p) - data);
            line_dirty_ = false;
        }
        scanned_ = lf + 1;
        result r = on_line(data, line_start_, lf, clean);
        line_start_ = lf + 1;
        if (r.state != state::need_more) return r;
    }
    return on_partial(data, size);
}

// The position of the first byte in [from, to) that is neither a method character nor what may
// end one (SP, or CR/LF of an empty or broken line), or npos: such a byte means no request line.
static std::size_t first_byte_no_method_holds(const char* data, std::size_t from, std::size_t to) noexcept {
    std::size_t i = from;
    while (i < to && is_tchar(data[i])) ++i;
    if (i < to && data[i] != ' ' && data[i] != '\r' && data[i] != '\n') return i;
    return npos;
}

// Limits are checked before content so that a prefix that already exceeds a limit and the whole
// line give the same error. Each limit is a byte position: the first byte past max_head, and the
// first request-line byte past max_request_line; when both are crossed the earlier position wins
// (on a tie, 431), in on_line and on_partial alike.
parser::result parser::on_partial(const char* data, std::size_t size) noexcept {
    std::size_t at_414 = npos;
    if (!request_line_seen_) {
        std::size_t pending = size - line_start_;
        // A trailing CR may be the first half of the CRLF, which is not part of the line.
        if (pending > 0 && data[size - 1] == '\r') --pending;
        if (pending > limits_.max_request_line) at_414 = line_start_ + limits_.max_request_line;
    }
    std::size_t at_431 = size > limits_.max_head ? limits_.max_head : npos;
    // Bytes that cannot begin a request line (a TLS ClientHello, 0x16 0x03, on a plain port)
    // are refused now rather than at a line end that may never come; a position like the limits,
    // so that the whole line and any prefix of it give the same error.
    if (!request_line_seen_) {
        const std::size_t at_400 = first_byte_no_method_holds(data, line_start_, size);
        if (at_400 < at_414 && at_400 < at_431) return fail(error::bad_method);
    }
    if (at_414 == npos && at_431 == npos) return result{};
    error e = at_414 < at_431 ? error::request_line_too_long : error::header_too_large;
    return fail(e);
}

parser::result parser::on_line(char* data, std::size_t start, std::size_t lf, bool clean) noexcept {
    const bool crlf = lf > start && data[lf - 1] == '\r';
    const std::size_t content_end = crlf ? lf - 1 : lf;
    const std::size_t length = content_end - start;

    std::size_t at_414 = npos;
    if (!request_line_seen_ && length > limits_.max_request_line) at_414 = start + limits_.max_request_line;
    // RFC 9110 §5.4 lets a server refuse a header section larger than it wishes to process (431,
    // RFC 6585 §5). max_head counts every byte up to and including the final CRLF, leading empty
    // lines too, so that they cannot be sent forever.
    std::size_t at_431 = lf >= limits_.max_head ? limits_.max_head : npos;
    if (!request_line_seen_) {
        const std::size_t at_400 = first_byte_no_method_holds(data, start, lf + 1);
        if (at_400 < at_414 && at_400 < at_431) return fail(error::bad_method);
    }
    if (at_414 != npos || at_431 != npos)
        return fail(at_414 < at_431 ? error::request_line_too_long : error::header_too_large);

    // RFC 9112 §2.2 allows a lone LF as a line terminator, but proxies that disagree on it can be
    // made to frame messages differently, so only CRLF is accepted.
    if (!crlf) return fail(error::bad_line_ending);

    if (!request_line_seen_) {
        // RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
        // ignore at least one empty line (CRLF) received prior to the request-line".
        if (length == 0) {
            skipped_ = lf + 1;
            return result{};
        }
        request_line_seen_ = true;
        error e = parse_request_line(data + start, length, clean);
        if (e != error::none) return fail(e);
        return result{};
    }

    if (length == 0) {
        error e = finish_head();
        if (e != error::none) return fail(e);
        final_ = result{lf + 1, state::done, error::none};
        return final_;
    }
    // RFC 9112 §5.2: obs-fold is deprecated; a server MUST reject it (or replace it, which we don't).
    // A whitespace-led first line is rejected the same way (RFC 9112 §2.2).
    if (is_ows(data[start])) return fail(error::obs_fold);
    const std::size_t max_fields = limits_.max_headers < header_capacity ? limits_.max_headers : header_capacity;
    if (request_.headers.size() >= max_fields) return fail(error::too_many_headers);
    error e = parse_field_line(data + start, length, clean);
    if (e != error::none) return fail(e);
    return result{};
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version, with exactly one SP
// between the parts (we do not take the §3 MAY of splitting on any whitespace).
error parser::parse_request_line(const char* line, std::size_t size, bool clean) noexcept {
    const char* const end = line + size;
    const char* p = line;
    while (p < end && is_tchar(*p)) ++p;
    if (p == end) return p == line ? error::bad_method : error::bad_request_line;
    if (*p != ' ') return *p == '\r' ? error::bad_line_ending : error::bad_method;
    if (p == line) return error::bad_method;  // RFC 9110 §9.1: method = token, which is non-empty
    request_.method_name = std::string_view(line, static_cast<std::size_t>(p - line));
    request_.method = parse_method(request_.method_name);

    const char* const target = ++p;
    if (clean) {
        // The line has no CTL but HTAB (see find_ctl), so the target ends at the first SP and
        // only a HTAB can make it invalid. Long targets (query strings) are scanned by memchr.
        const void* sp = std::memchr(p, ' ', static_cast<std::size_t>(end - p));
        const char* target_end = sp ? static_cast<const char*>(sp) : end;
        if (std::memchr(p, '\t', static_cast<std::size_t>(target_end - p)) != nullptr) return error::bad_target;
        p = target_end;
    } else {
        while (p < end && is_target_char(*p)) ++p;
    }
    if (p == end) return error::bad_request_line;  // no version: HTTP/0.9 or a truncated line
    if (*p != ' ') return *p == '\r' ? error::bad_line_ending : error::bad_target;
    if (p == target) return error::bad_target;  // two SPs: the target is empty
    request_.target = std::string_view(target, static_cast<std::size_t>(p - target));

    // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive. A well-formed
    // version other than 1.0/1.1 is answered with 505 (RFC 9110 §15.6.6).
    std::string_view version(p + 1, static_cast<std::size_t>(end - p - 1));
    if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) && version[6] == '.' &&
        is_digit(version[7])) {
        if (version[5] != '1' || version[7] > '1') return error::unsupported_version;
        request_.version_minor = static_cast<std::uint8_t>(version[7] - '0');
    } else {
        return version.find('\r') != std::string_view::npos ? error::bad_line_ending : error::bad_version;
    }

    // RFC 9112 §3.2: the form must fit the method. authority-form is only for CONNECT (§3.2.3),
    // asterisk-form only for OPTIONS (§3.2.4).
    std::string_view t = request_.target;
    if (request_.method == method::connect) {
        if (!is_authority_form(t)) return error::bad_target;
        request_.form = target_form::authority;
    } else if (t[0] == '/') {
        request_.form = target_form::origin;
        std::size_t q = t.find('?');
        if (q == std::string_view::npos) {
            request_.path = t;
        } else {
            request_.path = t.substr(0, q);
            request_.query = t.substr(q + 1);
        }
    } else if (t == "*") {
        if (request_.method != method::options) return error::bad_target;
        request_.form = target_form::asterisk;
    } else if (split_absolute_form(t, request_.path, request_.query)) {
        request_.form = target_form::absolute;
    } else {
        return error::bad_target;
    }
    return error::none;
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS.
error parser::parse_field_line(char* line, std::size_t size, bool clean) noexcept {
    char* const end = line + size;
    char* p = line;
    if (normalize_names_) {
        std::size_t upper = 256;
        for (; p < end; ++p) {
            const auto c = static_cast<unsigned char>(*p);
            const char m = name_table[upper + c];
            if (m == 0) break;
            *p = m;
            upper = c == '-' ? 256 : 0;
        }
    } else {
        while (p < end && is_tchar(*p)) ++p;
    }
    if (p == end) return error::bad_field_name;  // no colon
    if (*p != ':') {
        if (*p == '\r') return error::bad_line_ending;
        if (p == line || !is_ows(*p)) return error::bad_field_name;
        // RFC 9112 §5.1: "A server MUST reject, with a response status code of 400 (Bad Request),
        // any received request message that contains whitespace between a header field name and
        // colon."
        while (p < end && is_ows(*p)) ++p;
        return p < end && *p == ':' ? error::space_before_colon : error::bad_field_name;
    }
    if (p == line) return error::bad_field_name;  // RFC 9110 §5.1: field-name = token, non-empty
    const auto name_size = static_cast<std::size_t>(p - line);

    const char* v = p + 1;
    const char* ve = end;
    while (v < ve && is_ows(*v)) ++v;
    while (ve > v && is_ows(ve[-1])) --ve;
    if (!clean && find_ctl(v, ve) != ve) return error::bad_field_value;

    header_field f;
    f.name = std::string_view(line, name_size);
    f.value = std::string_view(v, static_cast<std::size_t>(ve - v));
    f.id = lookup_field(f.name);
    if (f.id != field::unknown) {
        error e = on_field(f);
        if (e != error::none) return e;
    }
    // Cannot fail: on_line checked the count against header_capacity.
    (void)request_.headers.try_add(f.name, f.value, f.id);
    return error::none;
}

error parser::on_field(const header_field& f) noexcept {
    switch (f.id) {
        case field::host:
            // RFC 9112 §3.2: a server MUST respond 400 to a request "that contains more than one
            // Host header field line or a Host header field with an invalid field value".
            if (host_seen_) return error::duplicate_host;
            if (!is_valid_host(f.value)) return error::bad_field_value;
            host_seen_ = true;
            request_.host = f.value;
            return error::none;
        case field::content_length:
            return parse_content_length(f.value, content_length_seen_, request_.content_length);
        case field::transfer_encoding:
            return on_transfer_encoding(f.value);
        case field::connection:
            // RFC 9110 §7.6.1: Connection = #connection-option, case-insensitive tokens.
            (void)for_each_element(f.value, [this](std::string_view option) noexcept {
                if (iequals(option, "close")) connection_close_ = true;
                if (iequals(option, "keep-alive")) connection_keep_alive_ = true;
                return error::none;
            });
            return error::none;
        case field::expect:
            // RFC 9110 §10.1.1: the only expectation defined is "100-continue", case-insensitive.
            if (iequals(f.value, "100-continue")) request_.expect_continue = true;
            return error::none;
        case field::upgrade:
            request_.has_upgrade = true;
            return error::none;
        default:
            return error::none;
    }
}

// RFC 9112 §6.1: Transfer-Encoding = #transfer-coding; several fields form one list. The checks
// that need the whole list (chunked last, chunked once, other codings) wait for finish_head().
error parser::on_transfer_encoding(std::string_view value) noexcept {
    // RFC 9112 §6.1: a server that receives an HTTP/1.0 message with Transfer-Encoding "MUST treat
    // the message as if the framing is faulty".
    if (request_.version_minor == 0) return error::bad_transfer_encoding;
    te_seen_ = true;
    bool any = false;
    error e = for_each_element(value, [&](std::string_view element) noexcept {
        // RFC 9110 §5.6.1: recipients accept and ignore empty list elements.
        if (element.empty()) return error::none;
        any = true;
        // transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9110 §10.1.4).
        std::size_t semi = element.find(';');
        std::string_view coding = trim_ows(element.substr(0, semi));
        if (!is_token(coding)) return error::bad_transfer_encoding;
        const bool chunked = iequals(coding, "chunked");
        if (chunked) {
            // chunked defines no parameters (RFC 9112 §7).
            if (semi != std::string_view::npos) return error::bad_transfer_encoding;
            if (te_chunked_ < 2) ++te_chunked_;
        } else {
            te_other_ = true;
        }
        te_last_chunked_ = chunked;
        return error::none;
    });
    if (e != error::none) return e;
    return any ? error::none : error::bad_transfer_encoding;  // an empty field value is no coding
}

error parser::finish_head() noexcept {
    // RFC 9112 §3.2: "A server MUST respond with a 400 ... to any HTTP/1.1 request message that
    // lacks a Host header field".
    if (request_.version_minor == 1 && !host_seen_) return error::missing_host;
    if (te_seen_) {
        // RFC 9112 §6.1: a sender MUST NOT send Content-Length with Transfer-Encoding; §6.3: such a
        // message "ought to be handled as an error". Both framings together are the classic
        // request-smuggling vector, so we answer 400 and close.
        if (content_length_seen_) return error::content_length_with_transfer_encoding;
        // RFC 9112 §6.3: when chunked is not the final coding of a request, the length cannot be
        // determined: 400. chunked twice is forbidden by RFC 9112 §6.1.
        if (te_chunked_ > 1 || (te_chunked_ == 1 && !te_last_chunked_)) return error::bad_transfer_encoding;
        // RFC 9112 §6.1: a transfer coding we do not understand is answered with 501.
        if (te_other_ || te_chunked_ == 0) return error::unsupported_transfer_encoding;
        request_.framing = body_framing::chunked;
    } else if (content_length_seen_) {
        request_.framing = body_framing::content_length;
    }
    // RFC 9112 §9.3: HTTP/1.1 is persistent unless "close" is sent; HTTP/1.0 only with "keep-alive".
    if (request_.version_minor == 1)
        request_.keep_alive = !connection_close_;
    else
        request_.keep_alive = connection_keep_alive_ && !connection_close_;
    return error::none;
}

}  // namespace fastfork::http
