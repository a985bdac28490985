#pragma once
// UTF-8 validation (RFC 3629) for text messages and close reasons, incremental so that a
// message may be split anywhere, even inside a code point. Protocol only; used by the worker.

#include <cstdint>
#include <string_view>

namespace fastfork::websocket {

/// Validates a byte sequence fed in pieces. Rejects overlong forms, surrogates (U+D800-DFFF)
/// and code points above U+10FFFF, at the first byte that makes the sequence invalid (so a
/// peer's bad message is caught before it is fully received). ASCII runs are checked 8 bytes
/// at a time. Trivially copyable, 1 byte of state.
class utf8_validator {
public:
    /// Checks the next piece; false once the input so far can no longer be valid UTF-8 (sticky
    /// until reset()).
    [[nodiscard]] bool feed(std::string_view bytes) noexcept;
    /// True when everything fed so far is valid and ends on a code point boundary: call at the
    /// end of a message.
    [[nodiscard]] bool is_complete() const noexcept { return state_ == accept_state; }
    /// Whether the input so far can still become valid (false after a failed feed()).
    [[nodiscard]] bool is_valid_so_far() const noexcept { return state_ != reject_state; }
    void reset() noexcept { state_ = accept_state; }

    static constexpr std::uint8_t accept_state = 0;
    static constexpr std::uint8_t reject_state = 1;

private:
    std::uint8_t state_ = accept_state;
};

/// Whole-buffer check: `bytes` is complete, valid UTF-8.
[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

}  // namespace fastfork::websocket
