#include "worker/stream_io.hpp"

#include <limits>
#include <new>

#include "http/status.hpp"
#include "worker/connection.hpp"
#include "worker/exchange.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

void stream_io::begin(connection& c, const http::request& req, bool streams_body, bool send_continue) noexcept {
    c_ = &c;
    req_ = &req;
    streams_body_ = streams_body && req.framing != http::body_framing::none;
    body_done_ = !streams_body_;
    send_continue_ = send_continue && streams_body_;
    max_body_ = c.srv_->opts().limits.max_body;
}

void stream_io::set_max_body(std::uint64_t max) noexcept {
    if (!body_started_) max_body_ = max;
}

http::read_result stream_io::read(char* buf, std::size_t cap) noexcept {
    if (!streams_body_ || body_done_ || cap == 0) return {0, in_error_};
    if (in_error_) return {0, in_error_};
    connection& c = *c_;
    exchange& ex = *c.ex_;
    if (!body_started_) {
        body_started_ = true;
        ex.body_reader.start(*req_, max_body_ == 0 ? std::numeric_limits<std::uint64_t>::max() : max_body_);
        // Known too large: refuse before inviting the upload (no 100 Continue).
        if (req_->framing == http::body_framing::content_length && max_body_ != 0 && req_->content_length > max_body_) {
            in_error_ = http::stream_error::body_too_large;
            return {0, in_error_};
        }
        if (send_continue_) {
            // RFC 9110 §10.1.1: only now that the handler reads does the client get to send.
            send_continue_ = false;
            try {
                if (!c.out_) c.out_ = c.srv_->buffers().acquire();
                c.out_->append(http::status_line(100));
                c.out_->append(std::string_view("\r\n"));
            } catch (const std::bad_alloc&) {
                in_error_ = http::stream_error::no_memory;
                return {0, in_error_};
            }
            if (!c.flush()) {
                in_error_ = out_error_ = http::stream_error::peer_gone;
                return {0, in_error_};
            }
        }
    }
    for (;;) {
        const std::size_t at = c.rd_ + ex.head_size;
        const std::size_t avail = c.in_->size() - at;
        if (avail > 0) {
            const std::size_t n = avail < cap ? avail : cap;
            const auto r = ex.body_reader.feed(c.in_->data() + at, n, buf);
            // Dropped at once: the read buffer holds one read's worth of body, never more.
            c.erase_input(at, r.consumed);
            if (r.state == http::body_reader::state::error) {
                c.count_parse_error(r.err);
                in_error_ = r.err == http::error::body_too_large ? http::stream_error::body_too_large
                                                                 : http::stream_error::bad_body;
                // What was decoded before the error is the handler's; the next read reports it.
                return {r.produced, r.produced > 0 ? std::error_code() : in_error_};
            }
            if (r.state == http::body_reader::state::done) body_done_ = true;
            if (r.produced > 0 || body_done_) return {r.produced, {}};
        }
        switch (c.wait_input()) {
            case connection::wait_result::ok:
                break;
            case connection::wait_result::timeout:
                in_error_ = http::stream_error::timed_out;
                return {0, in_error_};
            case connection::wait_result::peer_gone:
                in_error_ = http::stream_error::peer_gone;
                return {0, in_error_};
        }
    }
}

void stream_io::set_content_length(std::uint64_t length) noexcept {
    if (head_queued_) return;
    sized_ = true;
    length_ = length;
}

bool stream_io::is_ending() const noexcept {
    return c_ && c_->srv_->is_draining();
}

std::error_code stream_io::fail_out(http::stream_error e) noexcept {
    out_error_ = e;
    return out_error_;
}

std::error_code stream_io::queue_head() noexcept {
    connection& c = *c_;
    http::write_options wo;
    wo.version_minor = req_->version_minor;
    wo.head_request = req_->method == http::method::head;
    wo.keep_alive = c.keeps_alive(*req_);
    wo.date = c.srv_->http_date();
    wo.server = c.srv_->opts().server_name;
    try {
        if (!c.out_) c.out_ = c.srv_->buffers().acquire();
        const http::stream_head h = http::write_stream_head(c.ex_->ctx.response(), wo, sized_, length_, *c.out_);
        keep_alive_ = h.keep_alive;
        framing_ = h.framing;
    } catch (const std::bad_alloc&) {
        return fail_out(http::stream_error::no_memory);
    }
    head_queued_ = true;
    shm::add(c.srv_->counters().streamed_responses);
    return {};
}

std::error_code stream_io::write_out() noexcept {
    connection& c = *c_;
    if (c.flush()) return {};
    // flush() leaves peer_error_ unset only when the write timed out.
    return fail_out(c.peer_error_ ? http::stream_error::peer_gone : http::stream_error::timed_out);
}

std::error_code stream_io::write(std::string_view data) noexcept {
    if (out_error_) return out_error_;
    if (!c_) return http::stream_error::not_streaming;
    if (!head_queued_)
        if (auto ec = queue_head()) return ec;
    if (sized_ && data.size() > length_ - sent_) return http::stream_error::too_much_body;
    if (framing_ == http::stream_framing::none) {
        sent_ += data.size();  // HEAD or a bodiless status: the bytes are not sent
        return {};
    }
    connection& c = *c_;
    while (!data.empty()) {
        const std::size_t piece = data.size() < flush_threshold ? data.size() : flush_threshold;
        try {
            if (framing_ == http::stream_framing::chunked)
                http::write_chunk(data.substr(0, piece), *c.out_);
            else
                c.out_->append(data.substr(0, piece));
        } catch (const std::bad_alloc&) {
            return fail_out(http::stream_error::no_memory);
        }
        sent_ += piece;
        data.remove_prefix(piece);
        if (c.out_->size() >= flush_threshold)
            if (auto ec = write_out()) return ec;
    }
    return {};
}

std::error_code stream_io::flush() noexcept {
    if (out_error_) return out_error_;
    if (!c_) return http::stream_error::not_streaming;
    if (!head_queued_)
        if (auto ec = queue_head()) return ec;
    return write_out();
}

bool stream_io::finish() noexcept {
    // A response streamed while its request body failed (an echo of a cut upload) is cut too:
    // a last chunk would let the client take the part for the whole.
    if (out_error_ || in_error_) return false;
    if (framing_ == http::stream_framing::chunked) {
        try {
            http::write_last_chunk(*c_->out_);
        } catch (const std::bad_alloc&) {
            return false;
        }
    }
    if (write_out()) return false;
    // Content-Length promised more than was written: only closing tells the client.
    if (framing_ == http::stream_framing::sized && sent_ != length_) return false;
    return true;
}

}  // namespace fastfork::worker
