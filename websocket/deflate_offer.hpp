#pragma once
// permessage-deflate negotiation (RFC 7692 §5, §7.1): reads the client's offers from
// Sec-WebSocket-Extensions, picks the first one the server can honour, and writes the answer.
// Protocol only; used by the worker during the opening handshake.

#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"

namespace fastfork::websocket {

/// What the server is willing to do (its configuration).
struct deflate_config {
    bool enabled = false;  // negotiate permessage-deflate when offered
    bool server_no_context_takeover =
        false;  // always reset our compressor after each message (less memory, worse ratio)
    bool client_no_context_takeover =
        false;  // ask the client to reset its compressor (we then keep no inflate history)
    std::uint8_t server_max_window_bits = 15;  // 9..15: our compressor's window (zlib cannot do 8 for raw deflate)
    int level = 1;                             // zlib compression level 1..9 (1: fast, as most servers use)
};

/// The parameters both sides use on one connection (RFC 7692 §7.1), after negotiation.
struct deflate_params {
    bool server_no_context_takeover = false;     // our compressor resets after each message
    bool client_no_context_takeover = false;     // the client's does; our inflater may reset too
    std::uint8_t server_max_window_bits = 15;    // window of our compressor (9..15)
    std::uint8_t client_max_window_bits = 15;    // window the client compresses with (8..15)
    bool answer_server_max_window_bits = false;  // the answer names server_max_window_bits
    bool answer_client_max_window_bits = false;  // the answer names client_max_window_bits
    int level = 1;
};

/// Negotiates from every Sec-WebSocket-Extensions value the client sent (call once per field
/// line, in order, with the same `out`, stopping at the first true). Each comma-separated
/// permessage-deflate offer is checked in order (RFC 7692 §5: the client lists its preference);
/// offers with unknown, duplicate or malformed parameters, or a server_max_window_bits the
/// server cannot use (8, or larger than configured is fine: we use less), are skipped. Returns
/// true and fills `out` for the first acceptable offer; false when none (then the connection
/// runs without compression). Other extensions are ignored.
[[nodiscard]] bool negotiate_deflate(std::string_view extensions_value,
                                     const deflate_config& config,
                                     deflate_params& out) noexcept;

/// Appends the answer line "Sec-WebSocket-Extensions: permessage-deflate[; ...]\r\n".
void write_deflate_answer(const deflate_params& params, http::byte_buffer& out);

}  // namespace fastfork::websocket
