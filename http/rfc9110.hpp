#pragma once
// The RFC 9110 grammar shared by every reader and writer of HTTP fields (worker): token
// characters, OWS, comma-separated lists, weights (q-values), hex digits, and decimal and hex
// number output. Header-only and constexpr so the parser's hot loops inline the same tables.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fastfork::http {

// ---------------------------------------------------------------- characters

/// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
/// "`" / "|" / "~" / DIGIT / ALPHA. Indexed by the byte as unsigned char.
inline constexpr std::array<bool, 256> tchar_table = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

[[nodiscard]] constexpr bool is_tchar(char c) noexcept {
    return tchar_table[static_cast<unsigned char>(c)];
}

/// RFC 9110 §5.6.2: token = 1*tchar (so never empty).
[[nodiscard]] constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

/// RFC 9110 §5.6.3: OWS = *( SP / HTAB ); BWS and RWS use the same characters.
[[nodiscard]] constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// `s` without leading and trailing OWS.
[[nodiscard]] constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

/// HEXDIG values (RFC 5234 appendix B.1, either case); 0xFF for any other byte.
inline constexpr std::array<std::uint8_t, 256> hex_value_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = 0xFF;
    for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<std::uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<std::uint8_t>(c - 'A' + 10);
    return t;
}();

/// The value 0..15 of hex digit `c`, or 0xFF when `c` is not one.
[[nodiscard]] constexpr std::uint8_t hex_value(char c) noexcept {
    return hex_value_table[static_cast<unsigned char>(c)];
}

/// Digits for hex output: lower case for what we generate (chunk sizes, ETags, escapes in logs),
/// upper case for percent-encoding (RFC 3986 §2.1: producers SHOULD use upper case).
inline constexpr std::string_view hex_digits_lower = "0123456789abcdef";
inline constexpr std::string_view hex_digits_upper = "0123456789ABCDEF";

// ---------------------------------------------------------------- number output

/// Room put_decimal and put_hex need at most for a 64-bit value.
inline constexpr std::size_t max_decimal_digits = 20;
inline constexpr std::size_t max_hex_digits = 16;

/// Writes the decimal digits of `v` (no sign, no leading zeros, "0" for zero) at `p`, which must
/// have max_decimal_digits bytes of room. Returns the end of what was written.
inline char* put_decimal(char* p, std::uint64_t v) noexcept {
    char tmp[max_decimal_digits];
    char* t = tmp + sizeof tmp;
    do {
        *--t = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    while (t != tmp + sizeof tmp) *p++ = *t++;
    return p;
}

/// Writes the lower-case hex digits of `v` (RFC 9112 §7.1 chunk-size, ETags) at `p`, which must have
/// max_hex_digits bytes of room. Returns the end of what was written.
inline char* put_hex(char* p, std::uint64_t v) noexcept {
    char tmp[max_hex_digits];
    char* t = tmp + sizeof tmp;
    do {
        *--t = hex_digits_lower[v & 15];
        v >>= 4;
    } while (v);
    while (t != tmp + sizeof tmp) *p++ = *t++;
    return p;
}

// ---------------------------------------------------------------- lists

/// Calls `f(element)` for every element of a comma-separated list (RFC 9110 §5.6.1), OWS-trimmed,
/// in order. Empty elements are passed too: recipients must accept and ignore them, but only the
/// caller knows whether one is an error (Content-Length "5,") or nothing (Accept-Encoding ", gzip").
/// Stops at the first element for which `f` returns true, and returns whether it stopped. Commas
/// inside quoted strings are not special: none of the fields read this way can contain one
/// (entity-tags exclude ',' only by convention, see etag_list_matches).
template <class F>
constexpr bool for_each_list_element(std::string_view list, F&& f) {
    for (;;) {
        const std::size_t comma = list.find(',');
        if (f(trim_ows(list.substr(0, comma)))) return true;
        if (comma == std::string_view::npos) return false;
        list.remove_prefix(comma + 1);
    }
}

// ---------------------------------------------------------------- weights

/// The largest weight, in thousandths: q=1.
inline constexpr unsigned max_qvalue = 1000;

/// Parses a qvalue (RFC 9110 §12.4.2: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]) into thousandths.
/// Returns false, leaving `out` alone, when `s` is not one.
[[nodiscard]] constexpr bool parse_qvalue(std::string_view s, unsigned& out) noexcept {
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
    if (v > max_qvalue) return false;
    out = v;
    return true;
}

/// One element of a weighted list (Accept-Encoding, Accept, TE: RFC 9110 §12.4.2), split.
struct weighted_element {
    std::string_view value;   // before the first ';', OWS-trimmed ("gzip", "text/html")
    unsigned q = max_qvalue;  // the weight in thousandths; max_qvalue when there is no q parameter
};

/// Splits `element` (one member of for_each_list_element) into its value and weight: parameters
/// are `;`-separated, the weight is the one named "q" or "Q" (RFC 9110 §12.4.2: case-insensitive),
/// other parameters are skipped. Returns false when the weight is malformed, and the element must
/// then be ignored (as if it were absent).
[[nodiscard]] constexpr bool parse_weighted_element(std::string_view element, weighted_element& out) noexcept {
    const std::size_t semi = element.find(';');
    out.value = trim_ows(element.substr(0, semi));
    out.q = max_qvalue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = element.substr(semi + 1);
    for (;;) {
        const std::size_t next = params.find(';');
        const std::string_view param = trim_ows(params.substr(0, next));
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=' &&
            !parse_qvalue(param.substr(2), out.q))
            return false;
        if (next == std::string_view::npos) return true;
        params.remove_prefix(next + 1);
    }
}

}  // namespace fastfork::http
