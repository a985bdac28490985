#pragma once
// SHA-1 (FIPS 180-4) and base64 (RFC 4648 §4), only as far as the opening handshake needs
// them: Sec-WebSocket-Accept and checking that Sec-WebSocket-Key decodes to 16 bytes. Our own
// small implementation so the protocol layer links nothing but zlib. Used by the worker.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fastfork::websocket {

using sha1_digest = std::array<std::uint8_t, 20>;

/// The SHA-1 digest of the concatenation of `a` and `b` (the handshake hashes key + GUID).
[[nodiscard]] sha1_digest sha1(std::string_view a, std::string_view b = {}) noexcept;

/// Characters base64_encode writes for `n` input bytes (with '=' padding).
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t n) noexcept {
    return (n + 2) / 3 * 4;
}

/// Writes the padded base64 of `in` at `out`, which must have base64_encoded_size(in.size())
/// bytes of room. Returns the number of characters written.
std::size_t base64_encode(const std::uint8_t* in, std::size_t n, char* out) noexcept;

/// Decodes padded base64 (the standard alphabet, no whitespace) into `out` of capacity `cap`.
/// Returns the decoded size, or -1 when `in` is not canonical padded base64 or needs more room.
[[nodiscard]] std::ptrdiff_t base64_decode(std::string_view in, std::uint8_t* out, std::size_t cap) noexcept;

}  // namespace fastfork::websocket
