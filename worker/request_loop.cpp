// The request loop of one connection (worker), on the fiber that serves it: 100-continue, the
// body, the handler and the filter chain, the response into the write buffer, pipelined heads
// answered before anything is written (one write per batch), then the fiber goes back to the
// pool. The socket side (reads, writes, timeouts, close) is in worker/connection.cpp.

#include <atomic>
#include <boost/context/detail/exception.hpp>
#include <cerrno>
#include <cstring>
#include <exception>

#include "http/response.hpp"
#include "http/status.hpp"
#include "shm/clock.hpp"
#include "worker/connection.hpp"
#include "worker/exchange.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/hijack.hpp"
#include "worker/log.hpp"
#include "worker/send_file.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

void connection::serve_entry(void* self) {
    static_cast<connection*>(self)->serve();
}

void connection::serve() {
    try {
        for (;;) {
            if (serve_one() == next_step::closed) return;  // the connection is not ours any more
            if (rd_ < in_->size()) {
                // The next head is (partly) here: the parser starts over on it. When it is not,
                // the exchange goes back to its pool, which resets it (one reset per request).
                ex_->reset();
                const http::parser::state s = feed_head();
                if (s == http::parser::state::done) continue;  // pipelined: answer it before writing
                if (s == http::parser::state::error) {
                    flush_and_close();
                    return;
                }
            }
            end_batch();
            return;
        }
    } catch (const boost::context::detail::forced_unwind&) {
        throw;
    } catch (const std::exception& e) {
        FF_LOG_ERROR("connection %llu: %s", static_cast<unsigned long long>(id_), e.what());
        close_now();
    } catch (...) {
        FF_LOG_ERROR("connection %llu: unknown exception", static_cast<unsigned long long>(id_));
        close_now();
    }
}

void connection::end_batch() noexcept {
    if (!flush()) {
        close_now();
        return;
    }
    if (rd_ < in_->size() && !peer_error_) {
        // Part of the next head is here already: the parser keeps it, the loop feeds the rest.
        phase_ = phase::head;
        fiber_ = nullptr;
        set_pin(input_pin::none);
        srv_->start_wait(*this, wait_kind::header);
        restart_reading();
        return;
    }
    go_idle();
}

connection::next_step connection::serve_one() {
    const http::request& req = ex_->parser.get();
    ++requests_;
    shm::add(srv_->counters().requests);

    // Only a request with a body asks the hook: the common GET pays one comparison.
    const bool streams_body = req.framing != http::body_framing::none && srv_->streams_body(req);
    bool send_continue = false;
    if (streams_body ? !prepare_streamed_body(req, send_continue) : !answer_continue(req)) return next_step::closed;
    std::string_view body;
    std::size_t body_in_place = 0;
    if (!streams_body && !read_body(body, body_in_place)) return next_step::closed;

    http::request_ctx& ctx = ex_->ctx;
    ctx.bind(&req, body, fiber_);
    ctx.set_connection(id_, requests_);
    ex_->stream.begin(*this, req, streams_body, send_continue);
    ctx.bind_streams(streams_body ? &ex_->stream : nullptr, &ex_->stream);
    const bool handler_ok = run_handler(req);
    if (ex_->stream.is_started()) return finish_stream(req, handler_ok);
    if (!handler_ok) {
        // Nothing of this response was sent yet (responses are serialized after the handler).
        shm::add(srv_->counters().handler_exceptions);
        abandon_takeover();
        record_latency();
        answer_error(500);
        flush_and_close();
        return next_step::closed;
    }

    if (tls_ && ctx.takeover()) {
        // A hijacked stream (and so a WebSocket) writes to the socket itself, past the TLS
        // record layer: refuse it rather than put plaintext on an encrypted connection.
        FF_LOG_WARN("connection %llu: hijack/WebSocket over TLS is not supported yet: 501",
                    static_cast<unsigned long long>(id_));
        abandon_takeover();
        record_latency();
        answer_error(501);
        flush_and_close();
        return next_step::closed;
    }
    const http::response& resp = ctx.response();
    http::write_options wo;
    wo.version_minor = req.version_minor;
    wo.head_request = req.method == http::method::head;
    // Checked after the handler: a drain that began while it ran must close this connection.
    // A streamed body the handler did not read to its end leaves the input unusable.
    wo.keep_alive = keeps_alive(req) && !resp.close() && !ex_->stream.is_body_pending();
    wo.date = srv_->http_date();
    wo.server = srv_->opts().server_name;
    if (!out_) out_ = srv_->buffers().acquire();
    const bool keep_alive = http::write_response(resp, wo, *out_);
    const bool file_payload = http::has_file_payload(resp, wo);
    shm::count_status(srv_->counters(), resp.status());
    record_latency();
    notify_completed(resp.status(), file_payload ? resp.body_file_length() : wo.head_request ? 0 : resp.body().size());
    // The response is in out_ (or, for a file, in the descriptor): the request's views are done.
    rd_ += ex_->head_size + body_in_place;
    set_pin(input_pin::none);
    if (file_payload && !send_file_body(resp)) return next_step::closed;
    if (void* t = ctx.takeover()) return hand_over(*static_cast<takeover*>(t));  // worker/hijack.hpp
    if (keep_alive) return next_step::more;
    return finish_connection(req);
}

unsigned connection::continue_hook_verdict(const http::request& req) noexcept {
    try {
        return srv_->continue_verdict(req);
    } catch (const std::exception& e) {
        FF_LOG_ERROR("continue hook threw: %s", e.what());
        return 500;
    }
}

bool connection::answer_continue(const http::request& req) noexcept {
    // RFC 9110 §10.1.1: answer 100 only when the body has not started to arrive, and only to
    // HTTP/1.1 clients; a refusal is a final status and the body is never read.
    if (!req.expect_continue || req.framing == http::body_framing::none || in_->size() != rd_ + ex_->head_size)
        return true;
    unsigned verdict = 100;
    if (req.framing == http::body_framing::content_length && req.content_length > srv_->opts().limits.max_body) {
        verdict = 413;  // known too large: do not invite an upload we would throw away
    } else {
        verdict = continue_hook_verdict(req);
    }
    if (verdict != 100) {
        answer_error(verdict);
        flush_and_close();
        return false;
    }
    if (req.version_minor != 1) return true;
    try {
        if (!out_) out_ = srv_->buffers().acquire();
        out_->append(http::status_line(100));  // "HTTP/1.1 100 Continue\r\n"
        out_->append(std::string_view("\r\n"));
    } catch (const std::bad_alloc&) {
        close_now();
        return false;
    }
    if (!flush()) {
        close_now();
        return false;
    }
    return true;
}

bool connection::run_handler(const http::request& req) {
    // The handler's views (and its own copies of them) point into the read buffer.
    set_pin(input_pin::in_handler);
    // Pinned, the views stay valid while the handler runs: the hang report may read them.
    note_ =
        request_note{req.method_name.data(), req.method_name.size(), req.target.data(), req.target.size(), opened_ms_,
                     uv_now(srv_->loop())};
    struct note_guard {
        fiber* f;
        explicit note_guard(fiber* fib, const request_note* n) noexcept : f(fib) {
            if (f) f->set_note(n);
            std::atomic_signal_fence(std::memory_order_release);
        }
        ~note_guard() {
            if (f) f->set_note(nullptr);
        }
    } guard(fiber_, &note_);
    bool ok = true;
    try {
        srv_->run_handler(ex_->ctx);
        // A streamed response is on its way already: no filter can change it.
        if (!ex_->stream.is_started()) srv_->filter_response(req, ex_->ctx.response());
    } catch (const boost::context::detail::forced_unwind&) {
        set_pin(input_pin::head_views);
        throw;
    } catch (const std::exception& e) {
        FF_LOG_ERROR("handler for %.*s %.*s threw: %s", static_cast<int>(req.method_name.size()),
                     req.method_name.data(), static_cast<int>(req.target.size()), req.target.data(), e.what());
        ok = false;
    } catch (...) {
        FF_LOG_ERROR("handler for %.*s threw a non-std exception", static_cast<int>(req.target.size()),
                     req.target.data());
        ok = false;
    }
    set_pin(input_pin::head_views);
    return ok;
}

bool connection::keeps_alive(const http::request& req) const noexcept {
    if (!req.keep_alive || srv_->is_draining()) return false;
    const auto max_requests = srv_->opts().max_requests_per_conn;
    return max_requests == 0 || requests_ < max_requests;
}

connection::next_step connection::finish_connection(const http::request& req) noexcept {
    if (!req.keep_alive && rd_ == in_->size()) {
        // The client said it sends nothing more (Connection: close, or HTTP/1.0 without
        // keep-alive) and nothing unread is here: no reset can hit the response, so skip the
        // half-close and linger and its extra wake-up (nginx closes these at once too).
        flush();
        close_now();
        return next_step::closed;
    }
    flush_and_close();
    return next_step::closed;
}

bool connection::read_body(std::string_view& body, std::size_t& consumed_in_place) noexcept {
    const http::request& req = ex_->parser.get();
    body = {};
    consumed_in_place = 0;
    if (req.framing == http::body_framing::none) return true;

    auto& reader = ex_->body_reader;
    reader.start(req, srv_->opts().limits.max_body);
    std::size_t at = rd_ + ex_->head_size;
    char* start = in_->data() + at;
    auto r = reader.feed(start, in_->size() - at, start);
    if (r.state == http::body_reader::state::done) {
        // The whole body was already buffered: decoded in place, zero copies.
        body = {start, r.produced};
        consumed_in_place = r.consumed;
        return true;
    }
    auto fail = [&](unsigned status) {
        answer_error(status);
        flush_and_close();
        return false;
    };
    if (r.state == http::body_reader::state::error) {
        count_parse_error(r.err);
        return fail(http::status_of(r.err));
    }
    // The rest arrives later: collect the decoded body in the exchange's buffer and drop each
    // input piece once decoded, so the read buffer never holds more than the head and one read.
    try {
        ex_->body.append({start, r.produced});
    } catch (const std::bad_alloc&) {
        return fail(500);
    }
    erase_input(at, r.consumed);
    for (;;) {
        wait_result w = wait_input();
        if (w == wait_result::timeout) return fail(408);
        if (w == wait_result::peer_gone) {
            close_now();
            return false;
        }
        at = rd_ + ex_->head_size;  // the buffer may have moved while we waited
        std::size_t avail = in_->size() - at;
        char* out;
        try {
            out = ex_->body.prepare(avail);
        } catch (const std::bad_alloc&) {
            return fail(500);
        }
        r = reader.feed(in_->data() + at, avail, out);
        ex_->body.commit(r.produced);
        erase_input(at, r.consumed);
        if (r.state == http::body_reader::state::error) {
            count_parse_error(r.err);
            return fail(http::status_of(r.err));
        }
        if (r.state == http::body_reader::state::done) break;
    }
    body = ex_->body.view();
    return true;
}

void connection::erase_input(std::size_t at, std::size_t n) noexcept {
    if (n == 0) return;
    char* p = in_->data() + at;
    std::size_t tail = in_->size() - at - n;
    std::memmove(p, p + n, tail);
    in_->resize(at + tail);
}

connection::wait_result connection::wait_input() noexcept {
    if (peer_error_) return wait_result::peer_gone;
    std::size_t before = in_->size();
    waiting_input_ = true;
    srv_->start_wait(*this, wait_kind::body);
    restart_reading();
    fiber_->suspend();
    waiting_input_ = false;
    timeout_list::unlink(*this);
    if (timed_out_) {
        timed_out_ = false;
        return wait_result::timeout;
    }
    if (in_->size() > before) return wait_result::ok;
    return peer_error_ ? wait_result::peer_gone : wait_result::ok;
}

bool connection::send_file_body(const http::response& resp) noexcept {
    // The head (and any pipelined answers before it) goes first; then the file, zero-copy. Once
    // the head is out, a failure can only be reported by closing: Content-Length promised more.
    if (!flush()) {
        close_now();
        return false;
    }
    if (tls_) return tls_send_file(resp);  // no kTLS: read and encrypted in user space
    const send_file_result r = send_file_all(srv_->fibers(), *fiber_, fd_, resp.body_file_fd(), resp.body_file_offset(),
                                             resp.body_file_length(), srv_->opts().write_timeout);
    shm::add(srv_->counters().bytes_out, r.sent);
    if (r.error == 0) return true;
    if (r.error == ETIMEDOUT) shm::add(srv_->counters().timeouts[static_cast<int>(shm::timeout_kind::write)]);
    close_now();
    return false;
}

void connection::mark_head_done() noexcept {
    // Observers (the access log) report the same duration as the latency histogram.
    if (shm::stats_enabled || srv_->has_observers()) ex_->head_done_ns = srv_->clock().recent_ns();
}

void connection::record_latency() noexcept {
    // Measured from the parsed head to the response serialized into the write buffer, not to
    // the socket write: a pipelined batch is written once, after its last response, and the
    // kernel's send buffer is not the server's latency. One clock read here; the head's start
    // reuses the latest one (worker/loop_clock.hpp). The access log reports the same reading.
    if (shm::stats_enabled || srv_->has_observers()) ex_->answered_ns = srv_->clock().now_ns();
    if constexpr (shm::stats_enabled)
        srv_->latency().record(ex_->answered_ns > ex_->head_done_ns ? ex_->answered_ns - ex_->head_done_ns : 0);
}

}  // namespace fastfork::worker
