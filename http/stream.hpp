#pragma once
// Streaming request and response bodies (worker, behind request_ctx): the interfaces the worker
// implements with the request's fiber waiting for the socket, the handler-facing body_stream,
// and the errors a handler sees. No I/O here, like http::executor.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace fastfork::http {

/// Why a streaming read or write failed. Sticky: once a stream fails, every later call on it
/// returns the same error, and the worker closes the connection after the handler.
enum class stream_error {
    none = 0,
    peer_gone,       ///< the client closed or reset the connection
    timed_out,       ///< no input for read_timeout, or the socket took nothing for write_timeout
    body_too_large,  ///< the request body exceeds the max_body in force (answer 413)
    bad_body,        ///< malformed chunked framing (answer 400)
    too_much_body,   ///< the handler wrote more than the Content-Length it declared
    no_memory,       ///< the output buffer could not grow
    not_streaming,   ///< the call needs a running request's stream (a ctx outside the worker)
};

[[nodiscard]] const std::error_category& stream_category() noexcept;
[[nodiscard]] inline std::error_code make_error_code(stream_error e) noexcept {
    return {static_cast<int>(e), stream_category()};
}
/// The status a handler answers when reading the body failed with `ec` (413, 400, 408), or 500.
[[nodiscard]] unsigned status_of_stream_error(std::error_code ec) noexcept;

/// One read from a body stream: `size` bytes were stored; size == 0 and !ec means the body ended.
struct read_result {
    std::size_t size = 0;
    std::error_code ec;
};

/// The request body as it arrives (implemented by the worker for streaming routes).
class body_source {
public:
    /// Stores up to `cap` decoded body bytes at `buf`, suspending the handler until at least one
    /// arrives, the body ends (0) or an error. The first call sends `100 Continue` when the
    /// client asked for it. read_timeout applies to every wait.
    virtual read_result read(char* buf, std::size_t cap) noexcept = 0;
    /// The most body bytes accepted (0 = no limit); effective only before the first read.
    virtual void set_max_body(std::uint64_t max) noexcept = 0;

protected:
    ~body_source() = default;
};

/// The response as it is produced (implemented by the worker).
class response_sink {
public:
    /// Queues `data` as body bytes; the head (status and headers of ctx.response()) goes first.
    /// Suspends the handler while the bounded output buffer cannot be written (write_timeout).
    virtual std::error_code write(std::string_view data) noexcept = 0;
    /// Sends the head (on the first call) and everything queued; suspends until it is written.
    virtual std::error_code flush() noexcept = 0;
    /// Frames the streamed body with Content-Length `length` instead of chunked; before the first
    /// write or flush only. Writing more is stream_error::too_much_body; less closes the connection.
    virtual void set_content_length(std::uint64_t length) noexcept = 0;
    /// True once the worker drains (shutdown, reload): an endless stream (SSE) should end now.
    [[nodiscard]] virtual bool is_ending() const noexcept = 0;

protected:
    ~response_sink() = default;
};

/// The handler's view of the request body as a stream: on a streaming route it reads from the
/// socket (body_source); on any other route the runtime has buffered the body and it reads from
/// that, so a handler can use it everywhere.
class body_stream {
public:
    /// See body_source::read; `buf` must not be empty.
    read_result read(std::span<char> buf) noexcept {
        if (source_) return source_->read(buf.data(), buf.size());
        const std::size_t n = buf.size() < buffered_.size() ? buf.size() : buffered_.size();
        for (std::size_t i = 0; i < n; ++i) buf[i] = buffered_[i];
        buffered_.remove_prefix(n);
        return {n, {}};
    }
    /// See body_source::set_max_body; a buffered body was limited by the server's max_body.
    void set_max_body(std::uint64_t max) noexcept {
        if (source_) source_->set_max_body(max);
    }
    /// True when reads come from the socket (the route streams its body).
    [[nodiscard]] bool is_streaming() const noexcept { return source_ != nullptr; }

    /// Worker side: binds to a source, or to an already buffered body.
    void bind(body_source* source, std::string_view buffered) noexcept {
        source_ = source;
        buffered_ = buffered;
    }

private:
    body_source* source_ = nullptr;
    std::string_view buffered_;
};

}  // namespace fastfork::http

template <>
struct std::is_error_code_enum<fastfork::http::stream_error> : std::true_type {};
