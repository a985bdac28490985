#pragma once
// WebSocket opcodes and close status codes (RFC 6455 §5.2, §7.4): the vocabulary shared by the
// frame parser, the message reader and the frame writer. Protocol only; used by the worker.

#include <cstdint>
#include <string_view>

namespace fastfork::websocket {

/// RFC 6455 §5.2 / §11.8. Values 3-7 and 11-15 are reserved and rejected by the parser.
enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

/// True for close, ping and pong (RFC 6455 §5.5: the opcode's high bit is set).
[[nodiscard]] constexpr bool is_control(opcode op) noexcept {
    return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

/// RFC 6455 §7.4.1: the status codes this server sends, plus the two that only appear locally.
enum class close_code : std::uint16_t {
    normal = 1000,            ///< the purpose of the connection is fulfilled
    going_away = 1001,        ///< server shutting down (drain) or browser leaving the page
    protocol_error = 1002,    ///< a frame broke RFC 6455 (unmasked client frame, bad opcode...)
    unsupported_data = 1003,  ///< a data type the endpoint cannot accept
    no_status = 1005,         ///< local only: a close frame without a code was received
    abnormal = 1006,          ///< local only: the connection dropped without a close frame
    invalid_payload = 1007,   ///< a text message (or close reason) is not UTF-8, or bad deflate data
    policy_violation = 1008,  ///< generic policy refusal
    message_too_big = 1009,   ///< a message exceeds max_message (after inflating)
    internal_error = 1011,    ///< the server hit an unexpected condition (handler failure)
};

/// RFC 6455 §7.4: whether `code` may appear in a received close frame. 1000-1003, 1007-1011
/// and 3000-4999 are valid; 1004-1006, 1015, everything below 1000 and above 4999 is not.
/// (1012-1014 are registered in the IANA registry and accepted too.)
[[nodiscard]] constexpr bool is_valid_received_close_code(std::uint16_t code) noexcept {
    if (code >= 3000 && code <= 4999) return true;
    if (code < 1000 || code > 1014) return false;
    return code != 1004 && code != 1005 && code != 1006;
}

/// A short name for logs ("protocol_error"); "other" for codes outside the enum.
[[nodiscard]] std::string_view to_string(close_code code) noexcept;

}  // namespace fastfork::websocket
