#pragma once
// File extension → media type for the static file handler (worker). Pure lookup, no I/O:
// a fixed table of the common web types; text types carry "; charset=utf-8".

#include <string_view>

namespace fastfork::http {

/// The default media type: an unknown extension is sent as opaque bytes (RFC 9110 §8.3: a
/// recipient may sniff, we do not guess).
inline constexpr std::string_view default_mime_type = "application/octet-stream";

/// The media type for `extension` (without the dot, ASCII case-insensitive: "html", "JPG"),
/// or default_mime_type. The view refers to static storage.
[[nodiscard]] std::string_view mime_type_for_extension(std::string_view extension) noexcept;

/// The media type for a file name or path by its last extension ("a/b.tar.gz" → gzip,
/// ".bashrc" and "README" → default_mime_type). The view refers to static storage.
[[nodiscard]] std::string_view mime_type_for_path(std::string_view path) noexcept;

}  // namespace fastfork::http
