#include "worker/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/context/detail/exception.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>

#include "http/error.hpp"
#include "http/response.hpp"
#include "http/status.hpp"
#include "worker/exchange.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"
#include "worker/send_file.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

namespace {
// Reads smaller than this cost a syscall each for little data: grow or compact first.
constexpr std::size_t min_read_space = 2048;
}  // namespace

bool connection::open(server& srv, int fd, std::uint64_t id, const sockaddr_storage& peer) noexcept {
    srv_ = &srv;
    id_ = id;
    requests_ = 0;
    rd_ = 0;
    peer_error_ = 0;
    write_status_ = 0;
    phase_ = phase::idle;
    reading_ = waiting_input_ = waiting_write_ = in_handler_ = views_live_ = reading_body_ = timed_out_ = false;
    nodelay_ = false;
    in_ = out_ = nullptr;
    ex_ = nullptr;
    fiber_ = nullptr;
    peer_family_ = static_cast<std::uint8_t>(peer.ss_family);
    if (peer.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(peer);
        std::memcpy(peer_addr_, &v4.sin_addr, 4);
        peer_port_ = ntohs(v4.sin_port);
        ip_key_ = (std::uint64_t{1} << 32) | ntohl(v4.sin_addr.s_addr);
    } else {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(peer);
        std::memcpy(peer_addr_, &v6.sin6_addr, 16);
        peer_port_ = ntohs(v6.sin6_port);
        // IPv6 clients are counted per /64: one host usually owns a whole /64.
        std::uint64_t prefix;
        std::memcpy(&prefix, peer_addr_, 8);
        ip_key_ = prefix ^ (std::uint64_t{3} << 62);
    }

    uv_tcp_init(&srv.loop_, &tcp_);
    tcp_.data = this;
    if (int rc = uv_tcp_open(&tcp_, fd); rc != 0) {
        FF_LOG_ERROR("uv_tcp_open(fd %d) failed: %s", fd, uv_strerror(rc));
        ::close(fd);
        phase_ = phase::closing;
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
        return false;
    }
    // A connection that never sends a byte is cut by the header timeout, like a slow one.
    srv.header_wait_.push_back(*this, uv_now(&srv.loop_));
    shm::add(srv.counters_->connections_idle);
    restart_reading();
    return true;
}

void connection::refuse(unsigned status) noexcept {
    send_error_and_close(status);
}

// ---------------------------------------------------------------- reading

void connection::set_nodelay() noexcept {
    // Like nginx's tcp_nodelay: only a connection that lives on (keep-alive) or whose answer
    // needs several writes can have Nagle delay a segment; a one-request connection never does,
    // and skipping setsockopt saves one syscall of its seven.
    if (nodelay_) return;
    uv_tcp_nodelay(&tcp_, 1);
    nodelay_ = true;
}

void connection::restart_reading() noexcept {
    if (reading_ || peer_error_ || phase_ == phase::closing) return;
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) == 0) reading_ = true;
}

void connection::on_alloc(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) noexcept {
    auto* self = static_cast<connection*>(handle->data);
    FF_ASSERT(self);
    self->alloc_input(buf);
}

void connection::alloc_input(uv_buf_t* buf) noexcept {
    if (!in_) in_ = srv_->buffers_.acquire();
    if (phase_ == phase::linger) {
        in_->clear();  // lingering: input is read only to be discarded
        rd_ = 0;
    }
    // While the handler runs, its views (and the handler's own copies of them) point into the
    // buffer: it must not move. Pipelined input then only fills the space left; when there is
    // none, reading pauses (backpressure). Before and after the handler, a parsed head's views
    // can follow a reallocation (rebase), but not a compaction.
    const bool pinned = in_handler_;
    if (!pinned && !views_live_ && rd_ == in_->size()) {
        in_->clear();
        rd_ = 0;
    }
    std::size_t space = in_->capacity() - in_->size();
    if (space < min_read_space && !pinned) {
        if (rd_ > 0 && !views_live_) {
            in_->consume(rd_);  // parser offsets are relative to rd_, so moving the tail is safe
            rd_ = 0;
        }
        space = in_->capacity() - in_->size();
        // Bounded: a head larger than max_head is rejected, and a body is consumed as it
        // arrives, so only a client pipelining without reading our answers hits the cap.
        std::size_t cap = srv_->opts_.limits.max_head + 64 * 1024;
        if (space < min_read_space && in_->size() - rd_ < cap) grow_input(min_read_space);
    }
    buf->base = in_->data() + in_->size();
    buf->len = in_->capacity() - in_->size();
}

bool connection::grow_input(std::size_t min_free) noexcept {
    const char* old_base = in_->data();
    try {
        in_->reserve(in_->size() + (in_->size() > min_free ? in_->size() : min_free));
    } catch (const std::bad_alloc&) {
        return false;
    }
    if (views_live_ && ex_ && in_->data() != old_base) ex_->parser.rebase(old_base, in_->data());
    return true;
}

void connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) noexcept {
    auto* self = static_cast<connection*>(stream->data);
    FF_ASSERT(self);
    if (nread > 0) {
        self->in_->commit(static_cast<std::size_t>(nread));
        shm::add(self->srv_->counters_->bytes_in, static_cast<std::uint64_t>(nread));
        self->on_input();
        return;
    }
    if (nread == 0) {  // EAGAIN: nothing more for now
        if (self->phase_ == phase::idle) self->release_input_if_empty();
        return;
    }
    if (nread == UV_ENOBUFS) {  // no room (pinned buffer): pause until the handler is done
        uv_read_stop(stream);
        self->reading_ = false;
        return;
    }
    self->on_peer_gone(static_cast<int>(nread));
}

void connection::on_input() noexcept {
    switch (phase_) {
        case phase::linger:
            in_->clear();
            rd_ = 0;
            return;
        case phase::busy:
            // Body bytes for a waiting fiber; anything else (pipelined requests) waits in the
            // buffer until the fiber's loop gets to it.
            if (waiting_input_) srv_->fibers_->resume(fiber_);
            return;
        case phase::idle:
            phase_ = phase::head;
            shm::sub(srv_->counters_->connections_idle);
            ex_ = srv_->exchanges_.acquire();
            set_remote_on(ex_->ctx);
            // A fresh connection already waits under the header timeout since its accept.
            if (this->list != &srv_->header_wait_) srv_->header_wait_.push_back(*this, uv_now(&srv_->loop_));
            [[fallthrough]];
        case phase::head:
            parse_head();
            return;
        case phase::closing:
            return;
    }
}

std::size_t connection::format_peer(const void* self, char* out, std::size_t cap) noexcept {
    const auto* c = static_cast<const connection*>(self);
    if (c->peer_family_ == AF_INET) {
        // By hand: glibc's inet_ntop formats IPv4 through sprintf.
        std::size_t n = 0;
        for (int i = 0; i < 4 && n + 4 < cap; ++i) {
            unsigned v = c->peer_addr_[i];
            if (i) out[n++] = '.';
            if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
            if (v >= 10) out[n++] = static_cast<char>('0' + v / 10 % 10);
            out[n++] = static_cast<char>('0' + v % 10);
        }
        return n;
    }
    const char* s = inet_ntop(c->peer_family_, c->peer_addr_, out, static_cast<socklen_t>(cap));
    return s ? std::strlen(s) : 0;
}

void connection::set_remote_on(http::request_ctx& ctx) const noexcept {
    ctx.set_remote_source(this, format_peer, peer_port_);
}

void connection::on_peer_gone(int status) noexcept {
    peer_error_ = status;
    if (reading_) {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
        reading_ = false;
    }
    switch (phase_) {
        case phase::busy:
            // A half-close after the request is normal (the response still goes out); the fiber
            // notices peer_error_ when it needs more input or has nothing left to answer.
            if (waiting_input_) srv_->fibers_->resume(fiber_);
            return;
        case phase::closing:
            return;
        default:
            close_now();
            return;
    }
}

void connection::parse_head() noexcept {
    auto r = ex_->parser.feed(in_->data() + rd_, in_->size() - rd_);
    switch (r.state) {
        case http::parser::state::need_more:
            return;
        case http::parser::state::error:
            count_parse_error(r.err);
            send_error_and_close(http::status_of(r.err));
            return;
        case http::parser::state::done:
            ex_->head_size = r.consumed;
            mark_head_done();
            start_fiber();
            return;
    }
}

void connection::start_fiber() noexcept {
    fiber* f = srv_->fibers_->try_acquire();
    if (!f) {
        // fasthttp's "concurrency limit exceeded": answer at once rather than queue.
        shm::add(srv_->counters_->connections_refused[static_cast<int>(shm::refusal::concurrency)]);
        send_error_and_close(503);
        return;
    }
    fiber_ = f;
    phase_ = phase::busy;
    views_live_ = true;
    timeout_list::unlink(*this);  // no timeout while a handler runs; the master's watchdog covers hangs
    srv_->fibers_->start(f, serve_entry, this);
}

// ---------------------------------------------------------------- the request loop (on a fiber)

void connection::serve_entry(void* self) {
    static_cast<connection*>(self)->serve();
}

void connection::serve() {
    try {
        for (;;) {
            if (!serve_one()) return;  // closed or closing: the connection is not ours any more
            ex_->reset();
            if (rd_ < in_->size()) {
                auto r = ex_->parser.feed(in_->data() + rd_, in_->size() - rd_);
                if (r.state == http::parser::state::done) {
                    ex_->head_size = r.consumed;
                    mark_head_done();
                    views_live_ = true;
                    continue;  // pipelined: answer it before writing anything (one write per batch)
                }
                if (r.state == http::parser::state::error) {
                    count_parse_error(r.err);
                    answer_error(http::status_of(r.err));
                    flush_and_close();
                    return;
                }
            }
            // Nothing complete is buffered: write the batch, then give the fiber back.
            if (!flush()) {
                close_now();
                return;
            }
            if (rd_ < in_->size() && !peer_error_) {
                phase_ = phase::head;  // part of the next head is here already
                fiber_ = nullptr;
                srv_->header_wait_.push_back(*this, uv_now(&srv_->loop_));
                restart_reading();
                return;
            }
            go_idle();
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

bool connection::serve_one() {
    const http::request& req = ex_->parser.get();
    ++requests_;
    shm::add(srv_->counters_->requests);

    // RFC 9110 §10.1.1: answer 100 only when the body has not started to arrive, and only to
    // HTTP/1.1 clients; a refusal is a final status and the body is never read.
    if (req.expect_continue && req.framing != http::body_framing::none && in_->size() == rd_ + ex_->head_size) {
        unsigned verdict = 100;
        if (req.framing == http::body_framing::content_length && req.content_length > srv_->opts_.limits.max_body)
            verdict = 413;  // known too large: do not invite an upload we would throw away
        else if (srv_->continue_hook_)
            verdict = srv_->continue_hook_(req);
        if (verdict != 100) {
            answer_error(verdict);
            flush_and_close();
            return false;
        }
        if (req.version_minor == 1) {
            if (!out_) out_ = srv_->buffers_.acquire();
            out_->append(http::status_line(100));
            out_->append(std::string_view("\r\n"));  // RFC 9110 §15.2.1: 100 has no fields
            if (!flush()) {
                close_now();
                return false;
            }
        }
    }

    std::string_view body;
    std::size_t body_in_place = 0;
    if (!read_body(body, body_in_place)) return false;

    bool keep_alive = req.keep_alive && !srv_->draining_;
    const auto max_requests = srv_->opts_.max_requests_per_conn;
    if (max_requests != 0 && requests_ >= max_requests) keep_alive = false;

    http::request_ctx& ctx = ex_->ctx;
    ctx.bind(&req, body, fiber_);
    ctx.set_connection(id_, requests_);
    bool failed = false;
    in_handler_ = true;
    try {
        srv_->handler_(ctx);
    } catch (const boost::context::detail::forced_unwind&) {
        throw;
    } catch (const std::exception& e) {
        FF_LOG_ERROR("handler for %.*s %.*s threw: %s", static_cast<int>(req.method_name.size()),
                     req.method_name.data(), static_cast<int>(req.target.size()), req.target.data(), e.what());
        failed = true;
    } catch (...) {
        FF_LOG_ERROR("handler for %.*s threw a non-std exception", static_cast<int>(req.target.size()),
                     req.target.data());
        failed = true;
    }
    in_handler_ = false;
    if (!out_) out_ = srv_->buffers_.acquire();
    if (failed) {
        // Nothing of this response was sent yet (responses are serialized after the handler).
        shm::add(srv_->counters_->handler_exceptions);
        answer_error(500);
        record_latency();
        flush_and_close();
        return false;
    }

    if (srv_->compressor_.is_enabled()) srv_->compressor_.maybe_compress(req, ctx.response());
    const http::response& resp = ctx.response();
    http::write_options wo;
    wo.version_minor = req.version_minor;
    wo.head_request = req.method == http::method::head;
    // Re-checked after the handler: a drain that began while it ran must close this connection.
    wo.keep_alive = keep_alive && !resp.close() && !srv_->draining_;
    wo.date = srv_->http_date();
    wo.server = srv_->opts_.server_name;
    keep_alive = http::write_response(resp, wo, *out_);
    count_response(resp.status());
    record_latency();
    if (srv_->access_log_.is_enabled())
        log_access(resp.status(), http::has_file_payload(resp, wo) ? resp.body_file_length()
                                  : wo.head_request                ? 0
                                                                   : resp.body().size());
    rd_ += ex_->head_size + body_in_place;
    views_live_ = false;
    if (http::has_file_payload(resp, wo) && !send_file_body(resp)) return false;

    if (!keep_alive) {
        if (!req.keep_alive && rd_ == in_->size()) {
            // The client said it sends nothing more (Connection: close, or HTTP/1.0 without
            // keep-alive) and nothing unread is here: no reset can hit the response, so skip the
            // half-close and linger and its extra wake-up (nginx closes these at once too).
            flush();
            close_now();
            return false;
        }
        flush_and_close();
        return false;
    }
    return true;
}

bool connection::read_body(std::string_view& body, std::size_t& consumed_in_place) noexcept {
    const http::request& req = ex_->parser.get();
    body = {};
    consumed_in_place = 0;
    if (req.framing == http::body_framing::none) return true;

    auto& reader = ex_->body_reader;
    reader.start(req, srv_->opts_.limits.max_body);
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
    reading_body_ = true;
    for (;;) {
        wait_result w = wait_input();
        if (w != wait_result::ok) {
            reading_body_ = false;
            if (w == wait_result::timeout) return fail(408);
            close_now();
            return false;
        }
        at = rd_ + ex_->head_size;  // the buffer may have moved while we waited
        std::size_t avail = in_->size() - at;
        char* out;
        try {
            out = ex_->body.prepare(avail);
        } catch (const std::bad_alloc&) {
            reading_body_ = false;
            return fail(500);
        }
        r = reader.feed(in_->data() + at, avail, out);
        ex_->body.commit(r.produced);
        erase_input(at, r.consumed);
        if (r.state == http::body_reader::state::error) {
            reading_body_ = false;
            count_parse_error(r.err);
            return fail(http::status_of(r.err));
        }
        if (r.state == http::body_reader::state::done) break;
    }
    reading_body_ = false;
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
    srv_->body_wait_.push_back(*this, uv_now(&srv_->loop_));
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

// ---------------------------------------------------------------- writing

bool connection::flush() noexcept {
    if (!out_ || out_->empty()) return true;
    if (peer_error_ && peer_error_ != UV_EOF) {
        out_->clear();  // reset by the peer: nothing can be delivered
        return false;
    }
    const std::size_t total = out_->size();
    uv_buf_t b = uv_buf_init(out_->data(), static_cast<unsigned>(total));
    int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1);
    if (n >= 0 && static_cast<std::size_t>(n) == total) {
        shm::add(srv_->counters_->bytes_out, total);
        out_->clear();
        return true;
    }
    if (n < 0 && n != UV_EAGAIN) {
        out_->clear();
        peer_error_ = n;
        return false;
    }
    std::size_t written = n < 0 ? 0 : static_cast<std::size_t>(n);
    shm::add(srv_->counters_->bytes_out, written);
    if (fiber_pool::current() != fiber_ || fiber_ == nullptr || !ex_) {
        // Loop context (an error answer before any fiber): nothing may wait here. Error
        // answers are a few hundred bytes into a fresh socket, so this does not happen in practice.
        out_->clear();
        return false;
    }
    set_nodelay();  // the rest goes out in several segments: Nagle must not hold them back
    b = uv_buf_init(out_->data() + written, static_cast<unsigned>(total - written));
    ex_->write_req.data = this;
    if (int rc = uv_write(&ex_->write_req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, on_write_done); rc != 0) {
        out_->clear();
        peer_error_ = rc;
        return false;
    }
    waiting_write_ = true;
    srv_->write_wait_.push_back(*this, uv_now(&srv_->loop_));
    fiber_->suspend();
    waiting_write_ = false;
    timeout_list::unlink(*this);
    if (timed_out_) {
        // The write is still queued in libuv: close_now() cancels it, and out_ stays alive
        // until on_closed.
        timed_out_ = false;
        return false;
    }
    if (write_status_ < 0) {
        peer_error_ = write_status_;
        return false;
    }
    shm::add(srv_->counters_->bytes_out, total - written);
    out_->clear();
    return true;
}

bool connection::send_file_body(const http::response& resp) noexcept {
    // The head (and any pipelined answers before it) goes first; then the file, zero-copy. Once
    // the head is out, a failure can only be reported by closing: Content-Length promised more.
    uv_os_fd_t fd;
    if (!flush() || uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0) {
        close_now();
        return false;
    }
    const send_file_result r = send_file_all(*srv_->fibers_, *fiber_, fd, resp.body_file_fd(), resp.body_file_offset(),
                                             resp.body_file_length(), srv_->opts_.write_timeout);
    shm::add(srv_->counters_->bytes_out, r.sent);
    if (r.error == 0) return true;
    if (r.error == ETIMEDOUT) shm::add(srv_->counters_->timeouts[static_cast<int>(shm::timeout_kind::write)]);
    close_now();
    return false;
}

void connection::on_write_done(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<connection*>(req->data);
    FF_ASSERT(self);
    self->write_status_ = status;
    if (self->waiting_write_ && self->phase_ == phase::busy) self->srv_->fibers_->resume(self->fiber_);
}

void connection::count_response(unsigned status) noexcept {
    shm::count_status(*srv_->counters_, status);
}

void connection::count_parse_error(http::error err) noexcept {
    static_assert(static_cast<std::size_t>(http::error::body_too_large) < shm::parse_error_kinds,
                  "shm::parse_errors_by_kind needs a cell for every http::error");
    shm::count_parse_error(*srv_->counters_, static_cast<unsigned>(err));
}

void connection::mark_head_done() noexcept {
    // The access log reports the same duration as the latency histogram.
    if (shm::stats_enabled || srv_->access_log_.is_enabled()) ex_->head_done_ns = uv_hrtime();
}

void connection::record_latency() noexcept {
    // Measured from the parsed head to the response serialized into the write buffer, not to
    // the socket write: a pipelined batch is written once, after its last response, and the
    // kernel's send buffer is not the server's latency. One clock read here, one at the head.
    if constexpr (shm::stats_enabled) {
        const std::uint64_t now = uv_hrtime();
        srv_->latency_->record(now > ex_->head_done_ns ? now - ex_->head_done_ns : 0);
    }
}

void connection::answer_error(unsigned status) noexcept {
    try {
        if (!out_) out_ = srv_->buffers_.acquire();
        http::write_error_response(status, srv_->http_date(), srv_->opts_.server_name, *out_);
        count_response(status);
        if (srv_->access_log_.is_enabled()) log_access(status, http::status_body(status).size());
    } catch (const std::bad_alloc&) {
        // Nothing to send; the connection is closed by the caller anyway.
    }
}

void connection::log_access(unsigned status, std::uint64_t bytes) noexcept {
    access_entry e;
    e.status = status;
    e.bytes = bytes;
    char text[INET6_ADDRSTRLEN];
    if (ex_) {
        e.remote = ex_->ctx.remote_ip();
    } else {
        e.remote = std::string_view(text, format_peer(this, text, sizeof text));  // refused at accept
    }
    if (ex_ && ex_->head_size != 0) {  // else the head was never parsed: no request line
        e.request = &ex_->parser.get();
        const std::uint64_t now = uv_hrtime();
        e.duration_us = now > ex_->head_done_ns ? (now - ex_->head_done_ns) / 1000 : 0;
    }
    srv_->access_log_.record(e);
}

void connection::send_error_and_close(unsigned status) noexcept {
    answer_error(status);
    flush_and_close();
}

void connection::flush_and_close() noexcept {
    // A failed flush may leave a write queued in libuv that references out_ and the exchange:
    // only close_now() keeps both alive until libuv has cancelled it.
    if (flush())
        close_gracefully();
    else
        close_now();
}

// ---------------------------------------------------------------- idle and close

void connection::release_input_if_empty() noexcept {
    if (in_ && rd_ == in_->size()) {
        srv_->buffers_.release(in_);
        in_ = nullptr;
        rd_ = 0;
    }
}

void connection::release_request_state() noexcept {
    fiber_ = nullptr;
    if (ex_) {
        srv_->exchanges_.release(ex_);
        ex_ = nullptr;
    }
    if (out_) {
        srv_->buffers_.release(out_);
        out_ = nullptr;
    }
}

void connection::go_idle() noexcept {
    release_request_state();
    release_input_if_empty();
    if (peer_error_) {
        close_now();  // the peer finished sending and has every answer
        return;
    }
    set_nodelay();
    phase_ = phase::idle;
    shm::add(srv_->counters_->connections_idle);
    srv_->idle_wait_.push_back(*this, uv_now(&srv_->loop_));
    restart_reading();
}

void connection::close_if_idle() noexcept {
    if (phase_ == phase::idle) close_gracefully();
}

void connection::close_gracefully() noexcept {
    if (phase_ == phase::closing || phase_ == phase::linger) return;
    if (peer_error_) {
        close_now();
        return;
    }
    if (phase_ == phase::idle) shm::sub(srv_->counters_->connections_idle);
    // Half-close, then read and discard until the peer's FIN: closing with unread input makes
    // the kernel send RST, which can destroy the response still in flight to the client.
    phase_ = phase::linger;
    release_request_state();
    if (in_) {
        in_->clear();
        rd_ = 0;
    }
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0) ::shutdown(fd, SHUT_WR);
    srv_->linger_wait_.push_back(*this, uv_now(&srv_->loop_));
    restart_reading();
}

void connection::close_now() noexcept {
    if (phase_ == phase::closing) return;
    if (phase_ == phase::idle) shm::sub(srv_->counters_->connections_idle);
    phase_ = phase::closing;
    timeout_list::unlink(*this);
    reading_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
}

void connection::on_closed(uv_handle_t* handle) noexcept {
    auto* self = static_cast<connection*>(handle->data);
    FF_ASSERT(self);
    server& srv = *self->srv_;
    if (self->in_) srv.buffers_.release(self->in_);
    if (self->out_) srv.buffers_.release(self->out_);
    if (self->ex_) srv.exchanges_.release(self->ex_);
    self->in_ = self->out_ = nullptr;
    self->ex_ = nullptr;
    srv.release_connection(self);
}

void connection::on_timeout(timeout_list& which) noexcept {
    server& srv = *srv_;
    auto count = [&](shm::timeout_kind k) { shm::add(srv.counters_->timeouts[static_cast<int>(k)]); };
    if (&which == &srv.linger_wait_) {
        close_now();
    } else if (&which == &srv.header_wait_) {
        timeout_list::unlink(*this);
        if (phase_ == phase::head) {
            count(shm::timeout_kind::header);
            send_error_and_close(408);  // RFC 9110 §15.5.9: the slowloris defence
        } else {
            close_gracefully();  // connected but never sent a byte
        }
    } else if (&which == &srv.idle_wait_) {
        timeout_list::unlink(*this);
        if (!srv.draining_) count(shm::timeout_kind::idle);
        close_gracefully();
    } else {
        // body_wait_ or write_wait_: wake the fiber, which answers or closes.
        count(&which == &srv.write_wait_ ? shm::timeout_kind::write : shm::timeout_kind::body);
        timeout_list::unlink(*this);
        timed_out_ = true;
        srv.fibers_->resume(fiber_);
    }
}

}  // namespace fastfork::worker
