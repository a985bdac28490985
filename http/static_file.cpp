#include "http/static_file.hpp"

#include <cstring>

#include "http/date.hpp"
#include "http/field.hpp"
#include "http/uri.hpp"

namespace fastfork::http {

namespace {

constexpr std::uint64_t max_u64 = ~std::uint64_t{0};

bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

char* put_hex(char* p, std::uint64_t v) noexcept {
    char tmp[16];
    char* t = tmp + sizeof tmp;
    do {
        *--t = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    const auto n = static_cast<std::size_t>(tmp + sizeof tmp - t);
    std::memcpy(p, t, n);
    return p + n;
}

char* put_decimal(char* p, std::uint64_t v) noexcept {
    char tmp[20];
    char* t = tmp + sizeof tmp;
    do {
        *--t = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    const auto n = static_cast<std::size_t>(tmp + sizeof tmp - t);
    std::memcpy(p, t, n);
    return p + n;
}

// Digits only, at least one; saturates at max_u64 instead of wrapping (a huge first-pos must
// stay huge, so that it is unsatisfiable rather than a small number).
bool parse_decimal(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        v = v > (max_u64 - d) / 10 ? max_u64 : v * 10 + d;
    }
    out = v;
    return true;
}

// Splits a comma-separated list (RFC 9110 §5.6.1): calls f(member) for each non-empty member,
// trimmed; stops when f returns true, and returns whether it did.
template <class F>
bool for_each_member(std::string_view list, F&& f) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view member = trim(list.substr(0, comma));
        if (!member.empty() && f(member)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

struct entity_tag {
    bool weak = false;
    std::string_view opaque;  // with its quotes
};

bool parse_entity_tag(std::string_view s, entity_tag& out) noexcept {
    out.weak = s.size() >= 2 && s[0] == 'W' && s[1] == '/';
    if (out.weak) s.remove_prefix(2);
    // RFC 9110 §8.8.3: opaque-tag = DQUOTE *etagc DQUOTE; etagc excludes '"'.
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    if (s.substr(1, s.size() - 2).find('"') != std::string_view::npos) return false;
    out.opaque = s;
    return true;
}

bool strong_equal(std::string_view field_value, std::string_view etag) noexcept {
    entity_tag a, b;
    return parse_entity_tag(field_value, a) && parse_entity_tag(etag, b) && !a.weak && !b.weak && a.opaque == b.opaque;
}

// A q-value (RFC 9110 §12.4.2) in thousandths; false when malformed.
bool parse_qvalue(std::string_view s, unsigned& out) noexcept {
    if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
    unsigned v = static_cast<unsigned>(s[0] - '0') * 1000;
    s.remove_prefix(1);
    if (!s.empty()) {
        if (s[0] != '.' || s.size() > 4) return false;
        unsigned scale = 100;
        for (char c : s.substr(1)) {
            if (c < '0' || c > '9') return false;
            v += static_cast<unsigned>(c - '0') * scale;
            scale /= 10;
        }
    }
    if (v > 1000) return false;
    out = v;
    return true;
}

}  // namespace

// ---------------------------------------------------------------- path resolution

resolved_path resolve_request_path(std::string_view raw_path, char* out) noexcept {
    resolved_path r;
    if (raw_path.empty() || raw_path.front() != '/') {
        r.status = 400;
        return r;
    }
    // Checked before decoding: after it, an encoded slash is indistinguishable from a real one.
    for (std::size_t i = 0; i + 2 < raw_path.size(); ++i) {
        if (raw_path[i] == '%' && raw_path[i + 1] == '2' && (raw_path[i + 2] == 'f' || raw_path[i + 2] == 'F')) {
            r.status = 404;
            return r;
        }
    }
    const std::size_t n = percent_decode(raw_path, out, /*plus_as_space=*/false);
    if (n == std::string_view::npos) {
        r.status = 400;
        return r;
    }
    const std::string_view decoded(out, n);
    if (decoded.find('\0') != std::string_view::npos) {
        r.status = 404;
        return r;
    }
    if (decoded.find('\\') != std::string_view::npos) {
        r.status = 403;
        return r;
    }
    // Compact the segments in place: the write position never passes the read position.
    std::size_t w = 0;
    bool last_was_dir = true;  // "/" alone names the root directory
    std::size_t pos = 0;
    while (pos < n) {
        std::size_t end = decoded.find('/', pos);
        if (end == std::string_view::npos) end = n;
        const std::string_view seg = decoded.substr(pos, end - pos);
        pos = end + 1;
        if (seg.empty() || seg == ".") {
            last_was_dir = true;
            continue;
        }
        if (seg == "..") {
            r.status = 403;
            return r;
        }
        if (w != 0) out[w++] = '/';
        std::memmove(out + w, seg.data(), seg.size());
        w += seg.size();
        last_was_dir = end != n;
    }
    // A path ending in "/x" leaves last_was_dir false; "/x/" and "/x/." set it back to true.
    if (!decoded.empty() && decoded.back() == '/') last_was_dir = true;
    if (w > max_relative_path) {
        r.status = 404;
        return r;
    }
    r.relative = std::string_view(out, w);
    r.trailing_slash = last_was_dir;
    return r;
}

// ---------------------------------------------------------------- validators

std::string_view format_etag(std::int64_t mtime, std::uint64_t size, std::string_view suffix, char* out) noexcept {
    char* p = out;
    *p++ = '"';
    // A pre-1970 mtime is negative; its two's complement keeps distinct times distinct.
    p = put_hex(p, static_cast<std::uint64_t>(mtime));
    *p++ = '-';
    p = put_hex(p, size);
    if (!suffix.empty() && suffix.size() <= 8) {
        *p++ = '-';
        std::memcpy(p, suffix.data(), suffix.size());
        p += suffix.size();
    }
    *p++ = '"';
    return {out, static_cast<std::size_t>(p - out)};
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) noexcept {
    entity_tag mine;
    if (!parse_entity_tag(etag, mine)) return false;
    return for_each_member(list, [&](std::string_view member) {
        if (member == "*") return true;
        entity_tag theirs;
        if (!parse_entity_tag(member, theirs)) return false;
        if (theirs.opaque != mine.opaque) return false;
        return weak || (!theirs.weak && !mine.weak);
    });
}

precondition_result evaluate_preconditions(const preconditions& p,
                                           std::string_view etag,
                                           std::time_t last_modified) noexcept {
    // RFC 9110 §13.2.2 steps 1–2.
    if (!p.if_match.empty()) {
        if (!etag_list_matches(p.if_match, etag, /*weak=*/false)) return precondition_result::failed;
    } else if (!p.if_unmodified_since.empty()) {
        std::time_t t;
        if (parse_http_date(trim(p.if_unmodified_since), t) && last_modified > t) return precondition_result::failed;
    }
    // Steps 3–4: If-None-Match takes precedence; If-Modified-Since is then not evaluated at all.
    if (!p.if_none_match.empty()) {
        if (etag_list_matches(p.if_none_match, etag, /*weak=*/true))
            return p.get_or_head ? precondition_result::not_modified : precondition_result::failed;
    } else if (p.get_or_head && !p.if_modified_since.empty()) {
        std::time_t t;
        if (parse_http_date(trim(p.if_modified_since), t) && last_modified <= t)
            return precondition_result::not_modified;
    }
    return precondition_result::proceed;
}

// ---------------------------------------------------------------- ranges

range_result evaluate_range(std::string_view range,
                            std::string_view if_range,
                            std::string_view etag,
                            std::time_t last_modified,
                            std::uint64_t size) noexcept {
    const range_result full{range_kind::full, 0, size};
    range = trim(range);
    constexpr std::string_view unit = "bytes=";
    if (range.size() <= unit.size() || !iequals(range.substr(0, unit.size()), unit)) return full;
    const std::string_view specs = range.substr(unit.size());

    std::string_view only;
    std::size_t count = 0;
    for_each_member(specs, [&](std::string_view member) {
        only = member;
        return ++count > 1;
    });
    if (count != 1) return full;

    // RFC 9110 §13.1.5: If-Range is evaluated only when a Range would apply.
    if_range = trim(if_range);
    if (!if_range.empty()) {
        if (if_range.front() == '"' || if_range.starts_with("W/")) {
            if (!strong_equal(if_range, etag)) return full;
        } else {
            std::time_t t;
            if (!parse_http_date(if_range, t) || t != last_modified) return full;
        }
    }

    const std::size_t dash = only.find('-');
    if (dash == std::string_view::npos) return full;
    const std::string_view first_text = only.substr(0, dash);
    const std::string_view last_text = only.substr(dash + 1);
    if (first_text.empty()) {
        // suffix-range: the last n bytes.
        std::uint64_t n;
        if (!parse_decimal(last_text, n)) return full;
        if (n == 0) return {range_kind::unsatisfiable, 0, 0};
        if (size == 0) return full;  // §14.1.2: satisfiable, but 206 cannot express zero bytes
        const std::uint64_t len = n < size ? n : size;
        return {range_kind::partial, size - len, len};
    }
    std::uint64_t first;
    if (!parse_decimal(first_text, first)) return full;
    std::uint64_t last = max_u64;
    if (!last_text.empty()) {
        if (!parse_decimal(last_text, last)) return full;
        if (last < first) return full;  // §14.1.1: invalid, so the field is ignored
    }
    if (first >= size) return {range_kind::unsatisfiable, 0, 0};
    if (last >= size) last = size - 1;
    return {range_kind::partial, first, last - first + 1};
}

std::string_view format_content_range(const range_result& r, std::uint64_t size, char* out) noexcept {
    constexpr std::string_view prefix = "bytes ";
    char* p = out;
    std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    if (r.kind == range_kind::partial && r.length != 0) {
        p = put_decimal(p, r.offset);
        *p++ = '-';
        p = put_decimal(p, r.offset + r.length - 1);
    } else {
        *p++ = '*';
    }
    *p++ = '/';
    p = put_decimal(p, size);
    return {out, static_cast<std::size_t>(p - out)};
}

// ---------------------------------------------------------------- content codings

content_coding choose_coding(std::string_view accept, bool have_br, bool have_gzip) noexcept {
    if (!have_br && !have_gzip) return content_coding::identity;
    // -1: not mentioned.
    int q_br = -1, q_gzip = -1, q_star = -1;
    for_each_member(accept, [&](std::string_view member) {
        const std::size_t semi = member.find(';');
        const std::string_view name = trim(member.substr(0, semi));
        unsigned q = 1000;
        if (semi != std::string_view::npos) {
            // Parameters: only q matters; a malformed weight drops the member.
            std::string_view params = member.substr(semi + 1);
            bool ok = true;
            while (!params.empty()) {
                const std::size_t next = params.find(';');
                const std::string_view param = trim(params.substr(0, next));
                if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=')
                    ok = parse_qvalue(param.substr(2), q);
                if (!ok || next == std::string_view::npos) break;
                params.remove_prefix(next + 1);
            }
            if (!ok) return false;
        }
        const int qi = static_cast<int>(q);
        if (iequals(name, "br"))
            q_br = qi;
        else if (iequals(name, "gzip") || iequals(name, "x-gzip"))
            q_gzip = qi;
        else if (name == "*")
            q_star = qi;
        return false;
    });
    if (q_br < 0) q_br = q_star;
    if (q_gzip < 0) q_gzip = q_star;
    const int br = have_br ? q_br : 0;
    const int gzip = have_gzip ? q_gzip : 0;
    if (br > 0 && br >= gzip) return content_coding::br;
    if (gzip > 0) return content_coding::gzip;
    return content_coding::identity;
}

std::string_view coding_name(content_coding c) noexcept {
    switch (c) {
        case content_coding::gzip:
            return "gzip";
        case content_coding::br:
            return "br";
        case content_coding::identity:
            break;
    }
    return {};
}

// ---------------------------------------------------------------- directory listings

void append_html_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
}

void append_uri_escaped(std::string& out, std::string_view segment) {
    for (char c : segment) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                                u == '-' || u == '.' || u == '_' || u == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += "0123456789ABCDEF"[u >> 4];
            out += "0123456789ABCDEF"[u & 15];
        }
    }
}

}  // namespace fastfork::http
