#pragma once
// Status codes and their reason phrases (RFC 9110 §15), used by the response writer and every
// handler that answers an error itself (worker): the one source of status text.

#include <string_view>

namespace fastfork::http {

/// The reason phrase of `code` ("Not Found"); "Unknown" for an unregistered code.
[[nodiscard]] std::string_view reason_phrase(unsigned code) noexcept;

/// The whole status line "HTTP/1.1 <code> <reason>\r\n" for `code` in 100..599, from a table built once;
/// unregistered codes get "HTTP/1.1 <code> Unknown\r\n". The view is valid for the life of the program.
[[nodiscard]] std::string_view status_line(unsigned code) noexcept;

/// The plain-text body of an error response for `code` in 100..599: "<code> <reason>\n" ("404 Not
/// Found\n"), from the same table; out-of-range codes get the 500 body. Valid for the life of the
/// program, so it can be passed to set_body_static.
[[nodiscard]] std::string_view status_body(unsigned code) noexcept;

}  // namespace fastfork::http
