#include "http/field.hpp"

#include <array>
#include <cstddef>

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

// Field names are short, so lookup_field first narrows by length (a jump), then by the
// lower-cased first byte, and only then compares: most names reach at most one comparison.
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
        if (names[i].size() > max_name_length) return false;
    return true;
}
static_assert(buckets_fit(), "raise max_name_length");

bool iequals_same_size(const char* a, const char* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i)
        if (lower[static_cast<unsigned char>(a[i])] != lower[static_cast<unsigned char>(b[i])]) return false;
    return true;
}

}  // namespace

field lookup_field(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_name_length) return field::unknown;
    const bucket& b = buckets[name.size()];
    const unsigned char first = lower[static_cast<unsigned char>(name[0])];
    for (std::size_t i = 0; i < b.count; ++i) {
        std::string_view candidate = names[static_cast<std::size_t>(b.ids[i])];
        if (lower[static_cast<unsigned char>(candidate[0])] != first) continue;
        if (iequals_same_size(name.data() + 1, candidate.data() + 1, name.size() - 1)) return b.ids[i];
    }
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
