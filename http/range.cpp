#include "http/range.hpp"

#include <cstring>

#include "http/conditional.hpp"
#include "http/field.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::http {

namespace {

constexpr std::uint64_t max_u64 = ~std::uint64_t{0};

// Digits only, at least one; saturates at max_u64 instead of wrapping (a huge first-pos must
// stay huge, so that it is unsatisfiable rather than a small number).
bool parse_position(std::string_view s, std::uint64_t& out) noexcept {
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

}  // namespace

range_result evaluate_range(std::string_view range,
                            std::string_view if_range,
                            std::string_view etag,
                            std::time_t last_modified,
                            std::uint64_t size) noexcept {
    const range_result full{range_kind::full, 0, size};
    range = trim_ows(range);
    constexpr std::string_view unit = "bytes=";
    if (range.size() <= unit.size() || !iequals(range.substr(0, unit.size()), unit)) return full;
    const std::string_view specs = range.substr(unit.size());

    std::string_view only;
    std::size_t count = 0;
    for_each_list_element(specs, [&](std::string_view member) {
        if (member.empty()) return false;  // RFC 9110 §5.6.1: empty elements are ignored
        only = member;
        return ++count > 1;
    });
    if (count != 1) return full;

    // RFC 9110 §13.1.5: If-Range is evaluated only when a Range would apply.
    if (!if_range_allows_range(if_range, etag, last_modified)) return full;

    const std::size_t dash = only.find('-');
    if (dash == std::string_view::npos) return full;
    const std::string_view first_text = only.substr(0, dash);
    const std::string_view last_text = only.substr(dash + 1);
    if (first_text.empty()) {
        // suffix-range: the last n bytes.
        std::uint64_t n;
        if (!parse_position(last_text, n)) return full;
        if (n == 0) return {range_kind::unsatisfiable, 0, 0};
        if (size == 0) return full;  // §14.1.2: satisfiable, but 206 cannot express zero bytes
        const std::uint64_t len = n < size ? n : size;
        return {range_kind::partial, size - len, len};
    }
    std::uint64_t first;
    if (!parse_position(first_text, first)) return full;
    std::uint64_t last = max_u64;
    if (!last_text.empty()) {
        if (!parse_position(last_text, last)) return full;
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

}  // namespace fastfork::http
