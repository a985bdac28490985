#pragma once
// Byte ranges (worker, for static files): a Range field evaluated against a representation's
// size (RFC 9110 §14), and the Content-Range value of the answer. Pure functions, no I/O.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace fastfork::http {

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
/// If-Range (§13.1.5, see if_range_allows_range): an entity-tag must equal `etag` strongly, a date
/// must equal `last_modified` exactly; otherwise the range is ignored. Accepts one range-spec:
/// `a-b`, `a-` or `-n`, unit "bytes" case-insensitively. Several ranges are answered with the whole
/// file (200): multipart/byteranges is rare in practice and a known amplification vector. A
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

}  // namespace fastfork::http
