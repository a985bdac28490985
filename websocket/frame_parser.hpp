#pragma once
// Incremental RFC 6455 §5 frame parser for frames a client sends: header decoding, the
// per-frame rules (masking, RSV bits, opcodes, control frame size, length encoding) and the
// fragmentation sequence, with payload unmasked in place. No I/O, no allocation; used by
// message_reader (and directly by tests and the fuzzer).

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "websocket/close_code.hpp"

namespace fastfork::websocket {

/// The decoded header of the current frame.
struct frame_header {
    opcode op = opcode::continuation;
    bool fin = false;
    bool rsv1 = false;  // "compressed" under permessage-deflate (first frame only)
    bool masked = false;
    std::uint64_t length = 0;  // payload length
    std::array<std::uint8_t, 4> mask{};
};

struct frame_parser_options {
    bool require_mask = true;               // RFC 6455 §5.1: a server closes on an unmasked client frame (1002)
    bool allow_rsv1 = false;                // permessage-deflate negotiated: RSV1 allowed on a message's first frame
    std::uint64_t max_message = 16u << 20;  // wire payload bytes per message; more is 1009
};

/// Feeds bytes split anywhere; hands out each frame's payload as one or more chunks.
class frame_parser {
public:
    enum class status : std::uint8_t {
        need_more,  ///< everything given was consumed (header bytes are kept inside, at most 14)
        chunk,      ///< `payload` is the next piece of the current frame's payload
        error,      ///< the input broke RFC 6455; `error` is the close code to send
    };

    struct result {
        status kind = status::need_more;
        std::size_t consumed = 0;  // input bytes used; drop them (even on error)
        std::string_view payload;  // chunk: unmasked, in place in the input
        bool first = false;        // chunk: the first of this frame (header() is fresh)
        bool last = false;         // chunk: the last of this frame (possibly empty payload)
        close_code error = close_code::protocol_error;
    };

    explicit frame_parser(const frame_parser_options& options = {}) noexcept : options_(options) {}

    /// Parses from `data` (mutable: payload is unmasked in place, so the caller's bytes change).
    /// Returns at most one chunk per call; call again with the rest of the input. A frame whose
    /// header and payload are both in `data` comes out as one chunk with first and last set
    /// (zero-copy). A zero-length frame gives one empty chunk with first and last. Checks, in
    /// RFC order: reserved opcodes, RSV2/RSV3 (always), RSV1 (unless allowed and the message's
    /// first frame), control frames fragmented or > 125 bytes, a 64-bit length with its MSB set (non-minimal
    /// length encodings are accepted: RFC 6455 §5.2 says "minimal" only of senders), an
    /// unmasked frame, a continuation without a message, a data frame inside a fragmented
    /// message (all 1002), and an uncompressed message over max_message (1009; a compressed
    /// one is bounded after inflating, by message_reader). After an error, every later
    /// call returns the same error and consumes nothing.
    [[nodiscard]] result parse(char* data, std::size_t size) noexcept;

    /// The current frame's header: valid from the chunk with `first` until the next frame starts.
    [[nodiscard]] const frame_header& header() const noexcept { return header_; }
    /// The data opcode of the message in progress (text/binary), even during its continuations.
    [[nodiscard]] opcode message_opcode() const noexcept { return message_op_; }
    /// True between the first and the final frame of a fragmented data message.
    [[nodiscard]] bool in_message() const noexcept { return in_message_; }
    /// The message in progress started with RSV1 (permessage-deflate: its payload is compressed).
    [[nodiscard]] bool message_compressed() const noexcept { return message_compressed_; }
    /// True between frames (no header byte or payload pending).
    [[nodiscard]] bool at_frame_boundary() const noexcept { return state_ == state::header && header_size_ == 0; }

    void set_allow_rsv1(bool allow) noexcept { options_.allow_rsv1 = allow; }
    [[nodiscard]] const frame_parser_options& options() const noexcept { return options_; }

    /// Back to the initial state (a new connection), keeping the options.
    void reset() noexcept;

private:
    enum class state : std::uint8_t { header, payload, failed };

    result fail(close_code code, std::size_t consumed) noexcept;
    result start_frame(std::size_t consumed) noexcept;

    frame_parser_options options_;
    frame_header header_;
    std::uint64_t remaining_ = 0;                  // payload bytes of the current frame still to come
    std::uint64_t message_size_ = 0;               // wire payload bytes of the data message so far
    std::uint32_t mask_offset_ = 0;                // payload bytes unmasked so far, mod 4
    std::array<std::uint8_t, 14> header_bytes_{};  // a header split across calls
    std::uint8_t header_size_ = 0;
    state state_ = state::header;
    opcode message_op_ = opcode::binary;
    bool in_message_ = false;
    bool message_compressed_ = false;
    bool first_pending_ = false;  // the next chunk is the frame's first
    close_code error_ = close_code::protocol_error;
};

/// XORs `size` bytes at `data` with `mask`, starting at mask byte `offset % 4`. Word at a time.
void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask, std::size_t offset) noexcept;

}  // namespace fastfork::websocket
