#pragma once
// Percent-decoding (RFC 3986 §2.1) and query-string splitting for request_ctx and the static
// file handler. No allocation: output goes to caller-provided storage.

#include <array>
#include <cstddef>
#include <string_view>

namespace fastfork::http {

/// Decodes `in` into `out` (at least in.size() bytes; may equal in.data()). With `plus_as_space`,
/// '+' becomes ' ' (application/x-www-form-urlencoded). Returns the decoded length, or
/// std::string_view::npos when a '%' is not followed by two hex digits.
[[nodiscard]] std::size_t percent_decode(std::string_view in, char* out, bool plus_as_space) noexcept;

/// One decoded `key=value` pair of a query string.
struct query_arg {
    std::string_view key;
    std::string_view value;
};

/// Decoded query arguments in order. Views point into the storage given to parse().
class query_args {
public:
    static constexpr std::size_t capacity = 64;

    /// Splits `query` on '&' and decodes each key and value into `storage` (query.size() bytes at
    /// least). Pairs beyond `capacity` and pairs whose escapes are invalid are skipped.
    void parse(std::string_view query, char* storage) noexcept;

    /// The first value for `key`, or an empty view. `has()` tells absent from empty.
    [[nodiscard]] std::string_view get(std::string_view key) const noexcept;
    [[nodiscard]] bool has(std::string_view key) const noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] const query_arg& operator[](std::size_t i) const noexcept { return items_[i]; }
    [[nodiscard]] const query_arg* begin() const noexcept { return items_.data(); }
    [[nodiscard]] const query_arg* end() const noexcept { return items_.data() + count_; }
    void clear() noexcept { count_ = 0; }

private:
    std::array<query_arg, capacity> items_{};
    std::size_t count_ = 0;
};

}  // namespace fastfork::http
