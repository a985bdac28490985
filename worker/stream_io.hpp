#pragma once
// The streams of one request (worker): the request body read from the socket as the handler asks
// for it (streaming routes), and the response written as the handler produces it, both on the
// request's fiber through its connection, with bounded buffers. Part of the exchange (pooled).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "http/request.hpp"
#include "http/response.hpp"
#include "http/stream.hpp"

namespace fastfork::worker {

class connection;

class stream_io final : public http::body_source, public http::response_sink {
public:
    /// Output queued before the fiber writes it out and waits: the most a streamed response
    /// holds in user space, whatever the client's speed.
    static constexpr std::size_t flush_threshold = 64 * 1024;

    /// Binds to the request `req` on `c`. `streams_body`: the body is read through read();
    /// `send_continue`: the first read sends `100 Continue` first.
    void begin(connection& c, const http::request& req, bool streams_body, bool send_continue) noexcept;
    void reset() noexcept { *this = stream_io(); }

    http::read_result read(char* buf, std::size_t cap) noexcept override;
    void set_max_body(std::uint64_t max) noexcept override;
    std::error_code write(std::string_view data) noexcept override;
    std::error_code flush() noexcept override;
    void set_content_length(std::uint64_t length) noexcept override;
    [[nodiscard]] bool is_ending() const noexcept override;

    /// The handler started a streamed response (its head is queued or sent).
    [[nodiscard]] bool is_started() const noexcept { return head_queued_; }
    /// A streamed body was not read to its end (or failed): the connection cannot be reused.
    [[nodiscard]] bool is_body_pending() const noexcept { return streams_body_ && !body_done_; }
    /// After the handler: ends the body (last chunk) and writes everything out. False: the
    /// response is broken (write failed, fewer bytes than the declared length, or the streamed
    /// request body failed while it was answered): close now, without a last chunk.
    [[nodiscard]] bool finish() noexcept;
    [[nodiscard]] bool keeps_alive() const noexcept { return keep_alive_; }
    [[nodiscard]] std::uint64_t body_bytes() const noexcept { return sent_; }
    [[nodiscard]] bool has_write_failed() const noexcept { return static_cast<bool>(out_error_); }

private:
    std::error_code queue_head() noexcept;
    std::error_code write_out() noexcept;
    std::error_code fail_out(http::stream_error e) noexcept;

    connection* c_ = nullptr;
    const http::request* req_ = nullptr;
    std::uint64_t max_body_ = 0;  // 0 = none
    std::uint64_t length_ = 0;    // declared Content-Length, when sized_
    std::uint64_t sent_ = 0;      // body bytes accepted from the handler
    std::error_code in_error_;
    std::error_code out_error_;
    http::stream_framing framing_ = http::stream_framing::none;
    bool streams_body_ = false;
    bool send_continue_ = false;
    bool body_started_ = false;
    bool body_done_ = false;
    bool sized_ = false;
    bool head_queued_ = false;
    bool keep_alive_ = false;
};

}  // namespace fastfork::worker
