#pragma once
// Protocol errors of the HTTP/1.1 layer and the status each one is answered with.
// Used by the worker (to answer and close) and by tests; no I/O.

#include <cstdint>
#include <string_view>
#include <system_error>

namespace fastfork::http {

/// Everything the parser and the body reader can reject. `need_more` is not here: it is a
/// state of an incomplete message, not a failure (see parser::state).
enum class error : std::uint8_t {
    none = 0,
    bad_request_line,            ///< request-line is not `method SP target SP version` (400)
    bad_method,                  ///< method is empty or has a non-token character (400)
    bad_target,                  ///< request-target empty, has CTL/SP, or its form does not fit the method (400)
    bad_version,                 ///< HTTP-version is malformed, e.g. `HTTP/1.x` (400)
    unsupported_version,         ///< well-formed but not HTTP/1.0 or HTTP/1.1 (505)
    request_line_too_long,       ///< request-line longer than limits::max_request_line (414)
    header_too_large,            ///< header section longer than limits::max_head (431)
    too_many_headers,            ///< more fields than limits::max_headers (431)
    bad_line_ending,             ///< bare LF or bare CR where CRLF is required (400)
    bad_field_name,              ///< empty field name or non-token character in it (400)
    space_before_colon,          ///< whitespace between field name and colon, RFC 9112 §5.1 (400)
    obs_fold,                    ///< line folding, RFC 9112 §5.2 (400)
    bad_field_value,             ///< CR, LF, NUL or another CTL inside a field value (400)
    missing_host,                ///< HTTP/1.1 request without Host, RFC 9112 §3.2 (400)
    duplicate_host,              ///< more than one Host field (400)
    bad_content_length,          ///< Content-Length not all digits, or overflows (400)
    conflicting_content_length,  ///< several Content-Length values that differ (400)
    content_length_with_transfer_encoding,  ///< both framings present, RFC 9112 §6.1 (400)
    bad_transfer_encoding,          ///< malformed Transfer-Encoding list, or chunked not last, or chunked twice (400)
    unsupported_transfer_encoding,  ///< a coding we do not implement, e.g. gzip as the last coding (501)
    bad_chunk_size,                 ///< chunk-size empty or not hex (400)
    chunk_size_overflow,            ///< chunk-size does not fit in 64 bits (400)
    bad_chunk_extension,            ///< malformed chunk extension (400)
    bad_chunk_terminator,           ///< chunk data not followed by CRLF (400)
    bad_trailer,                    ///< malformed trailer field (400)
    body_too_large,                 ///< body longer than the configured maximum (413)
};

/// The HTTP status code a server answers `e` with (400, 413, 414, 431, 501 or 505).
[[nodiscard]] unsigned status_of(error e) noexcept;

/// A stable short name of `e` for logs and stats keys (e.g. "obs_fold").
[[nodiscard]] std::string_view name_of(error e) noexcept;

/// The category behind std::error_code values made from `error` (name "fastfork.http").
[[nodiscard]] const std::error_category& http_category() noexcept;

[[nodiscard]] inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), http_category()};
}

}  // namespace fastfork::http

template <>
struct std::is_error_code_enum<fastfork::http::error> : std::true_type {};
