#pragma once
// The protocol half of serving files (worker): request path → safe relative path, validators
// (ETag, Last-Modified), conditional requests, byte ranges and content-coding negotiation for
// precompressed siblings. Pure functions on strings and numbers, no I/O; handlers/file_server.cpp
// does the opening and sending.

#include <cstddef>
#include <cstdint>
#include <ctime>
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

// ---------------------------------------------------------------- validators

/// Room for any ETag format_etag writes.
inline constexpr std::size_t max_etag_size = 48;

/// Formats the strong ETag of one file version into `out` (max_etag_size bytes), like nginx:
/// `"<mtime hex>-<size hex>"`, with `-<suffix>` before the closing quote when `suffix` is not
/// empty (a precompressed sibling: "gz", "br"), so each encoding has its own tag. Strong because
/// a file's bytes only change with its size or mtime (the same caveat as nginx: a rewrite of
/// equal size within the same second keeps the tag). Returns the view of `out`.
std::string_view format_etag(std::int64_t mtime, std::uint64_t size, std::string_view suffix, char* out) noexcept;

/// True when the comma-separated list of entity-tags `list` (an If-Match or If-None-Match value)
/// contains "*" or a tag that matches `etag`: with `weak`, by weak comparison (opaque tags equal,
/// W/ ignored; RFC 9110 §8.8.3.2), otherwise by strong comparison (neither weak, equal).
/// Malformed members are skipped.
[[nodiscard]] bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) noexcept;

/// The request's precondition fields (empty view = absent).
struct preconditions {
    std::string_view if_match;
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view if_unmodified_since;
    bool get_or_head = true;  // If-Modified-Since only applies to GET and HEAD
};

enum class precondition_result : std::uint8_t {
    proceed,       // evaluate Range next, then answer 200/206
    not_modified,  // 304
    failed,        // 412
};

/// RFC 9110 §13.2.2 order: If-Match (strong), else If-Unmodified-Since; then If-None-Match (weak;
/// 304 for GET/HEAD, 412 otherwise), else If-Modified-Since (GET/HEAD). An unparsable date is
/// ignored (§13.1.3, §13.1.4). `etag` is the current strong tag, `last_modified` its time.
[[nodiscard]] precondition_result evaluate_preconditions(const preconditions& p,
                                                         std::string_view etag,
                                                         std::time_t last_modified) noexcept;

// ---------------------------------------------------------------- ranges

enum class range_kind : std::uint8_t {
    full,           // no usable Range (absent, malformed, several ranges, If-Range failed): 200
    partial,        // one satisfiable range: 206 with Content-Range
    unsatisfiable,  // 416 with Content-Range: bytes */size
};

struct range_result {
    range_kind kind = range_kind::full;
    std::uint64_t offset = 0;  // first byte sent
    std::uint64_t length = 0;  // bytes sent (the whole size for `full`)
};

/// Evaluates a Range field (RFC 9110 §14.2) against a representation of `size` bytes, after
/// If-Range (§13.1.5): an entity-tag must equal `etag` strongly, a date must equal
/// `last_modified` exactly; otherwise the range is ignored. Accepts one range-spec: `a-b`, `a-`
/// or `-n`, unit "bytes" case-insensitively. Several ranges are answered with the whole file
/// (200): multipart/byteranges is rare in practice and a known amplification vector. A
/// malformed field is ignored (200). `a` at or past the end, or `-0`, is unsatisfiable; on an
/// empty file a suffix range is served as the (empty) whole.
[[nodiscard]] range_result evaluate_range(std::string_view range,
                                          std::string_view if_range,
                                          std::string_view etag,
                                          std::time_t last_modified,
                                          std::uint64_t size) noexcept;

/// Room for any Content-Range value format_content_range writes.
inline constexpr std::size_t max_content_range_size = 80;

/// "bytes <first>-<last>/<size>" for a partial result, "bytes */<size>" for an unsatisfiable one,
/// into `out` (max_content_range_size bytes). Returns the view of `out`.
std::string_view format_content_range(const range_result& r, std::uint64_t size, char* out) noexcept;

// ---------------------------------------------------------------- content codings

enum class content_coding : std::uint8_t { identity, gzip, br };

/// Picks the coding of a precompressed sibling to send for Accept-Encoding `accept`
/// (RFC 9110 §12.5.3): among the available ones (`have_br`, `have_gzip`), the one with the
/// highest q-value, br on a tie; "*" covers codings not listed; "x-gzip" counts as gzip; q=0
/// refuses. Absent or empty field: identity (we do not assume a client that says nothing
/// decodes anything).
[[nodiscard]] content_coding choose_coding(std::string_view accept, bool have_br, bool have_gzip) noexcept;

/// The Content-Encoding token of `c` ("gzip", "br"; "" for identity).
[[nodiscard]] std::string_view coding_name(content_coding c) noexcept;

// ---------------------------------------------------------------- directory listings

/// Appends `text` with &, <, >, " and ' escaped, for HTML text and attribute values.
void append_html_escaped(std::string& out, std::string_view text);
/// Appends a path segment percent-encoded (everything but unreserved characters, RFC 3986 §2.3),
/// so a file name can be used as a relative link.
void append_uri_escaped(std::string& out, std::string_view segment);

}  // namespace fastfork::http
