#include "http/field.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fastfork::http {

namespace {

// Canonical spellings, indexed by the enum value. Keep in enum order (checked below).
constexpr std::array<std::string_view, 38> names = {
    "",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Ranges",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Encoding",
    "Content-Length",
    "Content-Range",
    "Content-Type",
    "Cookie",
    "Date",
    "ETag",
    "Expect",
    "Host",
    "If-Match",
    "If-Modified-Since",
    "If-None-Match",
    "If-Range",
    "If-Unmodified-Since",
    "Keep-Alive",
    "Last-Modified",
    "Location",
    "Origin",
    "Range",
    "Referer",
    "Server",
    "Set-Cookie",
    "TE",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "User-Agent",
    "Vary",
    "X-Forwarded-For",
    "X-Request-Id",
};
static_assert(names.size() == static_cast<std::size_t>(field::x_request_id) + 1, "names must match enum field");

constexpr unsigned char to_lower(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

constexpr std::array<unsigned char, 256> make_lower_table() noexcept {
    std::array<unsigned char, 256> t{};
    for (unsigned i = 0; i < 256; ++i) t[i] = to_lower(static_cast<unsigned char>(i));
    return t;
}
constexpr auto lower = make_lower_table();

// Field names are short, so lookup_field narrows by length (a jump) and then compares the few
// candidates of that length a machine word at a time.
constexpr std::size_t max_name_length = 19;  // "If-Unmodified-Since"
constexpr std::size_t max_bucket = 8;

struct bucket {
    std::array<field, max_bucket> ids{};
    std::size_t count = 0;
};

constexpr std::array<bucket, max_name_length + 1> make_buckets() noexcept {
    std::array<bucket, max_name_length + 1> b{};
    for (std::size_t i = 1; i < names.size(); ++i) {
        auto& slot = b[names[i].size()];
        slot.ids[slot.count++] = static_cast<field>(i);
    }
    return b;
}
constexpr auto buckets = make_buckets();

constexpr bool buckets_fit() noexcept {
    for (std::size_t i = 1; i < names.size(); ++i)
        if (names[i].size() > max_name_length || names[i].size() < 2) return false;
    return true;
}
static_assert(buckets_fit(), "names must be 2..max_name_length bytes");

// A name in lower case, and a mask with 0x20 at its letters. For ASCII, x | 0x20 equals a lower-case
// letter l exactly when x is l or its upper-case form, so (input | mask) == lower is a
// case-insensitive comparison that stays exact at the non-letters ('-').
struct pattern {
    std::array<char, 24> lower{};
    std::array<char, 24> mask{};
};

constexpr std::array<pattern, names.size()> make_patterns() noexcept {
    std::array<pattern, names.size()> p{};
    for (std::size_t i = 0; i < names.size(); ++i) {
        for (std::size_t j = 0; j < names[i].size(); ++j) {
            auto c = static_cast<unsigned char>(names[i][j]);
            bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            p[i].lower[j] = static_cast<char>(to_lower(c));
            p[i].mask[j] = letter ? 0x20 : 0;
        }
    }
    return p;
}
constexpr auto patterns = make_patterns();

template <class Word>
inline bool word_matches(const char* in, const pattern& p, std::size_t at) noexcept {
    Word x, m, l;
    std::memcpy(&x, in + at, sizeof(Word));
    std::memcpy(&m, p.mask.data() + at, sizeof(Word));
    std::memcpy(&l, p.lower.data() + at, sizeof(Word));
    return static_cast<Word>(x | m) == l;
}

// Compares n >= 2 bytes with overlapping loads, so no byte outside [in, in + n) is read.
inline bool matches(const char* in, std::size_t n, const pattern& p) noexcept {
    if (n >= 8) {
        for (std::size_t at = 0; at + 8 <= n; at += 8)
            if (!word_matches<std::uint64_t>(in, p, at)) return false;
        return n % 8 == 0 || word_matches<std::uint64_t>(in, p, n - 8);
    }
    if (n >= 4) return word_matches<std::uint32_t>(in, p, 0) && word_matches<std::uint32_t>(in, p, n - 4);
    return word_matches<std::uint16_t>(in, p, 0) && word_matches<std::uint16_t>(in, p, n - 2);
}

bool iequals_same_size(const char* a, const char* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (lower[static_cast<unsigned char>(a[i])] != lower[static_cast<unsigned char>(b[i])]) return false;
    return true;
}

}  // namespace

field lookup_field(std::string_view name) noexcept {
    if (name.size() < 2 || name.size() > max_name_length) return field::unknown;
    const bucket& b = buckets[name.size()];
    for (std::size_t i = 0; i < b.count; ++i)
        if (matches(name.data(), name.size(), patterns[static_cast<std::size_t>(b.ids[i])])) return b.ids[i];
    return field::unknown;
}

std::string_view field_name(field f) noexcept {
    auto i = static_cast<std::size_t>(f);
    return i < names.size() ? names[i] : std::string_view{};
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && iequals_same_size(a.data(), b.data(), a.size());
}

void canonicalize_field_name(char* name, std::size_t size) noexcept {
    bool upper = true;
    for (std::size_t i = 0; i < size; ++i) {
        char c = name[i];
        if (upper) {
            if (c >= 'a' && c <= 'z') name[i] = static_cast<char>(c - ('a' - 'A'));
        } else if (c >= 'A' && c <= 'Z') {
            name[i] = static_cast<char>(c + ('a' - 'A'));
        }
        upper = c == '-';
    }
}

}  // namespace fastfork::http
