#pragma once
// Turns the bytes a client sends into WebSocket events: whole messages (assembled from
// fragments, inflated, UTF-8 checked), control frames, and protocol errors with the close code
// to send. No I/O; the worker's WebSocket session feeds it from its read buffer.
//
// Usage (one reader per connection; `msg` a pooled http::byte_buffer reused for every message):
//
//     websocket::message_reader reader({.max_message = 1 << 20});
//     if (negotiated) reader.set_inflater(&my_inflater);
//     for (std::size_t pos = 0; ;) {
//         auto ev = reader.read(buf + pos, len - pos, msg);
//         // handle ev (payload views are valid now, see below), then:
//         pos += ev.consumed;
//         if (ev.type == websocket::event_type::need_more) break;  // pos == len: drop the buffer
//         if (ev.type == websocket::event_type::error) { send close(ev.code); stop reading; }
//     }
//
// - need_more always consumes all of the input: a partial header is kept inside the reader
//   (<= 14 bytes) and partial payload is copied into `msg`, so the caller can drop or reuse its
//   read buffer after every need_more (an idle connection needs no read buffer).
// - A message wholly inside one input, in one frame and uncompressed, is delivered without a copy
//   (the view points into the input, unmasked in place). Otherwise the payload is assembled in
//   `msg` (cleared by the reader when the next message starts, so its capacity is reused: no
//   allocation per message in steady state). Pass the same `msg` until is_idle() is true;
//   between messages the caller may release it and pass another.
// - Views in an event are valid until the next read() call or until the caller changes the
//   input bytes or `msg`, whichever is first.
// - Control frames (ping, pong, close) may arrive between the fragments of a message
//   (RFC 6455 §5.4); their payload never touches `msg`. The reader does not answer them: the
//   session writes the pong (frame_writer) and the close reply.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "websocket/close_code.hpp"
#include "websocket/frame_parser.hpp"
#include "websocket/utf8.hpp"

namespace fastfork::websocket {

class inflater;

struct reader_options {
    std::uint64_t max_message = 16u << 20;  // payload bytes of one message, after inflating (1009 above)
    bool require_mask = true;               // server side: unmasked frames are 1002
};

enum class event_type : std::uint8_t {
    need_more,  ///< all input consumed; call again when more bytes arrive
    message,    ///< a complete data message: `op` text or binary, `payload` its bytes
    ping,       ///< `payload` (<= 125 bytes): answer with a pong carrying the same bytes
    pong,       ///< `payload` (<= 125 bytes): an answer to our ping, or unsolicited
    close,      ///< the peer's close: `code` (no_status when it sent none) and `payload` the reason
    error,      ///< the peer broke the protocol: send a close with `code` and close the connection
};

struct event {
    event_type type = event_type::need_more;
    opcode op = opcode::binary;               // message: text or binary
    std::string_view payload;                 // message/ping/pong: payload; close: reason (valid UTF-8)
    close_code code = close_code::no_status;  // close: peer's code; error: the code to send
    std::size_t consumed = 0;                 // input bytes used by this call; advance past them
};

class message_reader {
public:
    explicit message_reader(const reader_options& options = {}) noexcept;

    /// Enables permessage-deflate (RFC 7692): frames with RSV1 are inflated through `inf`
    /// (owned by the caller, must outlive the reader's use). Null disables it again.
    void set_inflater(inflater* inf) noexcept;

    /// Consumes input up to and including the next event (see the header comment). Protocol
    /// rules enforced here on top of frame_parser's: text messages are UTF-8 (checked as the
    /// fragments arrive, 1007), the inflated size of a message is at most max_message (1009),
    /// bad deflate data is 1007, a close payload is empty or a valid code (1002) plus a UTF-8
    /// reason (1007). After an error, read() returns the same error and consumes nothing; after
    /// a close, read() discards whatever follows (RFC 6455 §5.5.1: nothing may follow).
    [[nodiscard]] event read(char* data, std::size_t size, http::byte_buffer& msg) noexcept;

    /// True between messages: `msg` holds nothing the reader still needs.
    [[nodiscard]] bool is_idle() const noexcept { return !parser_.in_message() && parser_.at_frame_boundary(); }
    /// A close frame was received (read() only discards from now on).
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }

    [[nodiscard]] const reader_options& options() const noexcept { return options_; }

    /// Back to the initial state for a new connection (options and inflater are kept).
    void reset() noexcept;

private:
    event fail(close_code code, std::size_t consumed) noexcept;
    event finish_control(std::string_view payload, std::size_t consumed) noexcept;

    reader_options options_;
    frame_parser parser_;
    inflater* inflater_ = nullptr;
    utf8_validator utf8_;
    bool closed_ = false;
    bool failed_ = false;
    close_code error_ = close_code::protocol_error;
    std::uint8_t control_size_ = 0;
    std::array<char, 125> control_{};  // a control frame's payload split across reads
};

}  // namespace fastfork::websocket
