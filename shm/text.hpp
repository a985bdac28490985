#pragma once
// Text fields of the stats segment (master writes, fastforkctl and /stats read): whatever bytes
// a writer hands over or a segment holds, what comes out is well-formed UTF-8 (RFC 3629), so
// no renderer (JSON above all) can fail on it (issue 16.2).

#include <cstddef>
#include <string>
#include <string_view>

namespace fastfork::shm {

/// Length of the well-formed UTF-8 sequence that starts `s` (1..4), or 0 when s[0] starts none
/// (a stray continuation byte, an overlong form, a surrogate, > U+10FFFF, a truncated sequence).
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view s) noexcept;

/// Writes `text` into dst[0..capacity) NUL-terminated: well-formed sequences are copied whole,
/// every other byte, C0 control and DEL becomes the 4 characters \xNN; it stops before the first
/// unit that does not fit, so a cut never splits a character. Returns the length written
/// (without the NUL). capacity 0 writes nothing. Never throws, never allocates.
std::size_t copy_text(char* dst, std::size_t capacity, std::string_view text) noexcept;

/// `text` escaped as copy_text does it, whole. Throws only std::bad_alloc.
[[nodiscard]] std::string escape_text(std::string_view text);

}  // namespace fastfork::shm
