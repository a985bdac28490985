#pragma once
// Well-known header field names as an enum with case-insensitive lookup (like Beast's field),
// so the parser classifies each header once and handlers compare integers, not strings.

#include <cstdint>
#include <string_view>

namespace fastfork::http {

enum class field : std::uint8_t {
    unknown = 0,
    accept,
    accept_encoding,
    accept_language,
    accept_ranges,
    authorization,
    cache_control,
    connection,
    content_encoding,
    content_length,
    content_range,
    content_type,
    cookie,
    date,
    etag,
    expect,
    host,
    if_match,
    if_modified_since,
    if_none_match,
    if_range,
    if_unmodified_since,
    keep_alive,
    last_modified,
    location,
    origin,
    range,
    referer,
    server,
    set_cookie,
    te,
    trailer,
    transfer_encoding,
    upgrade,
    user_agent,
    vary,
    x_forwarded_for,
    x_request_id,
};

/// Classifies a field name, ASCII case-insensitively; `unknown` for names not in the enum.
[[nodiscard]] field lookup_field(std::string_view name) noexcept;

/// The canonical spelling of `f` ("Content-Type"); "" for `unknown`.
[[nodiscard]] std::string_view field_name(field f) noexcept;

/// ASCII case-insensitive equality, the comparison RFC 9110 §5.1 prescribes for field names.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

/// Rewrites a field name in place to canonical form: first letter and every letter after '-'
/// upper case, the rest lower case ("content-TYPE" → "Content-Type"), as fasthttp does.
void canonicalize_field_name(char* name, std::size_t size) noexcept;

}  // namespace fastfork::http
