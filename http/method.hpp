#pragma once
// Request methods (RFC 9110 §9) as an enum, for the parser and handlers.

#include <cstdint>
#include <string_view>

namespace fastfork::http {

/// The registered methods; any other valid token is `other` (its text stays in request::method_name).
enum class method : std::uint8_t { other, get, head, post, put, delete_, connect, options, trace, patch };

/// Maps a method token (case-sensitive, RFC 9110 §9.1) to the enum; unknown tokens give `other`.
[[nodiscard]] method parse_method(std::string_view token) noexcept;

/// The canonical token of `m` ("GET"…); "" for `other`.
[[nodiscard]] std::string_view to_string(method m) noexcept;

}  // namespace fastfork::http
