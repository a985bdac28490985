#include "http/conditional.hpp"

#include <cstring>

#include "http/date.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::http {

namespace {

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

}  // namespace

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
    return for_each_list_element(list, [&](std::string_view member) {
        if (member.empty()) return false;
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
        if (parse_http_date(trim_ows(p.if_unmodified_since), t) && last_modified > t)
            return precondition_result::failed;
    }
    // Steps 3–4: If-None-Match takes precedence; If-Modified-Since is then not evaluated at all.
    if (!p.if_none_match.empty()) {
        if (etag_list_matches(p.if_none_match, etag, /*weak=*/true))
            return p.get_or_head ? precondition_result::not_modified : precondition_result::failed;
    } else if (p.get_or_head && !p.if_modified_since.empty()) {
        std::time_t t;
        if (parse_http_date(trim_ows(p.if_modified_since), t) && last_modified <= t)
            return precondition_result::not_modified;
    }
    return precondition_result::proceed;
}

bool if_range_allows_range(std::string_view if_range, std::string_view etag, std::time_t last_modified) noexcept {
    if_range = trim_ows(if_range);
    if (if_range.empty()) return true;
    // RFC 9110 §13.1.5: If-Range = entity-tag / HTTP-date; a tag starts with DQUOTE or "W/".
    if (if_range.front() == '"' || if_range.starts_with("W/")) return strong_equal(if_range, etag);
    std::time_t t;
    return parse_http_date(if_range, t) && t == last_modified;
}

}  // namespace fastfork::http
