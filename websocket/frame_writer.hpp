#pragma once
// Writes server frames (RFC 6455 §5.2: unmasked) into an http::byte_buffer: data frames of
// any length, messages compressed per RFC 7692, close frames with code and reason, ping/pong.
// No I/O; used by the worker's WebSocket session.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "websocket/close_code.hpp"

namespace fastfork::websocket {

class deflater;

/// The longest header of an unmasked frame: 2 bytes + a 64-bit length.
inline constexpr std::size_t max_frame_header = 10;
/// RFC 6455 §5.5: control frame payloads are at most 125 bytes; a close reason 123 after the code.
inline constexpr std::size_t max_control_payload = 125;
inline constexpr std::size_t max_close_reason = 123;

/// Writes the header of an unmasked frame at `out` (room for max_frame_header bytes) with the
/// shortest length encoding. Returns its size (2, 4 or 10). For writev of large payloads.
std::size_t encode_frame_header(
    char* out, opcode op, std::uint64_t payload_size, bool fin = true, bool rsv1 = false) noexcept;

/// Appends one frame: header then `payload`. Precondition: control frames are fin and <= 125 bytes.
void write_frame(http::byte_buffer& out, opcode op, std::string_view payload, bool fin = true, bool rsv1 = false);

/// Appends a whole message (text or binary) as one frame; compressed (RSV1) through `compressor`
/// when it is non-null (permessage-deflate negotiated), as is when null.
void write_message(http::byte_buffer& out, opcode op, std::string_view payload, deflater* compressor = nullptr);

/// Appends a close frame with `code` and `reason`, cut to max_close_reason bytes at a UTF-8
/// boundary. no_status writes an empty close frame (no code, no reason); abnormal is never sent
/// (RFC 6455 §7.4.1), and is written as internal_error.
void write_close(http::byte_buffer& out, close_code code, std::string_view reason = {});

/// Appends a ping / pong; payloads over 125 bytes are cut to 125.
void write_ping(http::byte_buffer& out, std::string_view payload = {});
void write_pong(http::byte_buffer& out, std::string_view payload = {});

}  // namespace fastfork::websocket
