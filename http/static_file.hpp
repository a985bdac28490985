#pragma once
// The protocol half of serving files (worker): request path → safe relative path, and escaping
// for directory listings. Validators and preconditions are in conditional.hpp, byte ranges in
// range.hpp, the choice of a precompressed sibling in content_coding.hpp. Pure functions, no I/O;
// the file server does the opening and sending.

#include <cstddef>
#include <string>
#include <string_view>

namespace fastfork::http {

// ---------------------------------------------------------------- path resolution

/// The outcome of resolve_request_path. `status` is 0 when the path is usable; otherwise the
/// status to answer (400 malformed escape or not an absolute path, 403 a `..` segment or a
/// backslash, 404 NUL, an encoded slash or an over-long path) and `relative` is empty.
struct resolved_path {
    unsigned status = 0;
    std::string_view relative;    // "" (the root) or "a/b c/d.txt": decoded, no leading or trailing '/'
    bool trailing_slash = false;  // the request named a directory ("/", "/docs/", "/docs/.")
};

/// Longest relative path resolve_request_path accepts (Linux PATH_MAX less room for "/index.html").
inline constexpr std::size_t max_relative_path = 4000;

/// Maps a request path (origin-form, still percent-encoded, without the query) to a path
/// relative to the document root, or refuses it. `out` must hold raw_path.size() bytes; the
/// result views it. Rules, applied to every request before any file system access:
/// - an encoded slash (%2F) is refused (404): a segment may not contain '/', and decoding it
///   would let "..%2F" through segment checks done before decoding;
/// - percent-decoding happens once; a malformed escape is 400; NUL is 404; a backslash
///   (literal or %5C) is 403, because some file systems and proxies treat it as a separator;
/// - empty and "." segments are dropped ("//" collapses), and a ".." segment anywhere is 403:
///   it is never resolved against earlier segments, so no decoded path climbs above the root.
/// The result never starts with '/', so it is safe to pass to openat(root_fd, …).
[[nodiscard]] resolved_path resolve_request_path(std::string_view raw_path, char* out) noexcept;

// ---------------------------------------------------------------- directory listings

/// Appends `text` with &, <, >, " and ' escaped, for HTML text and attribute values.
void append_html_escaped(std::string& out, std::string_view text);
/// Appends a path segment percent-encoded (everything but unreserved characters, RFC 3986 §2.3),
/// so a file name can be used as a relative link.
void append_uri_escaped(std::string& out, std::string_view segment);

}  // namespace fastfork::http
