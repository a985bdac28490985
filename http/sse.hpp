#pragma once
// Server-Sent Events (worker, in a handler): the text/event-stream framing (HTML Living
// Standard §9.2) on top of request_ctx's streamed response. No I/O of its own.

#include <cstdint>
#include <string_view>
#include <system_error>

#include "http/byte_buffer.hpp"
#include "http/request_ctx.hpp"

namespace fastfork::http {

/// Appends one event: `event:` and `id:` lines when not empty, one `data:` line per line of
/// `data` (split at CRLF, CR or LF, so a multi-line payload survives), then the blank line that
/// dispatches it. CR and LF inside `event` and `id` become spaces (they would end the field).
void format_sse_event(byte_buffer& out, std::string_view data, std::string_view event = {}, std::string_view id = {});
/// Appends a comment line (`: text`), which clients ignore: a heartbeat that keeps proxies
/// and the idle timeout from closing a quiet stream.
void format_sse_comment(byte_buffer& out, std::string_view text);
/// Appends `retry: ms`, the client's reconnection delay.
void format_sse_retry(byte_buffer& out, std::uint32_t ms);

/// Streams events to the client of `ctx`; each call is flushed at once, so the client gets the
/// event when it is sent, not when the stream ends. Errors are ctx.write's (sticky).
class sse_writer {
public:
    explicit sse_writer(request_ctx& ctx) noexcept : ctx_(ctx) {}

    /// Sends the head: 200, Content-Type text/event-stream, Cache-Control no-cache; with
    /// `retry_ms` != 0 a first `retry:` field.
    std::error_code start(std::uint32_t retry_ms = 0);
    std::error_code send(std::string_view data, std::string_view event = {}, std::string_view id = {});
    std::error_code comment(std::string_view text);
    /// Waits `ms` (ctx.sleep) while sending a heartbeat comment every `heartbeat_ms` (0: none);
    /// returns early when the worker drains (ctx.is_ending()) or a heartbeat fails.
    std::error_code wait(std::uint64_t ms, std::uint64_t heartbeat_ms);

private:
    std::error_code send_buffer();

    request_ctx& ctx_;
    byte_buffer buf_;
};

}  // namespace fastfork::http
