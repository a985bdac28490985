#include "worker/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "http/error.hpp"
#include "http/response.hpp"
#include "http/status.hpp"
#include "shm/clock.hpp"
#include "worker/exchange.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

namespace {
// Reads smaller than this cost a syscall each for little data: grow or compact first.
constexpr std::size_t min_read_space = 2048;
}  // namespace

std::size_t format_address(int family, const std::uint8_t* addr, char* out, std::size_t cap) noexcept {
    if (family == AF_INET) {
        // By hand: glibc's inet_ntop formats IPv4 through sprintf.
        if (cap < INET_ADDRSTRLEN) return 0;
        std::size_t n = 0;
        for (int i = 0; i < 4; ++i) {
            unsigned v = addr[i];
            if (i) out[n++] = '.';
            if (v >= 100) out[n++] = static_cast<char>('0' + v / 100);
            if (v >= 10) out[n++] = static_cast<char>('0' + v / 10 % 10);
            out[n++] = static_cast<char>('0' + v % 10);
        }
        return n;
    }
    const char* s = inet_ntop(family, addr, out, static_cast<socklen_t>(cap));
    return s ? std::strlen(s) : 0;
}

void connection::open(server& srv, int fd, std::uint64_t id, const sockaddr_storage& peer) noexcept {
    srv_ = &srv;
    fd_ = fd;
    registered_ = false;
    id_ = id;
    requests_ = 0;
    opened_ms_ = uv_now(srv.loop());
    rd_ = 0;
    peer_error_ = 0;
    write_status_ = 0;
    phase_ = phase::idle;
    pin_ = input_pin::none;
    reading_ = waiting_input_ = waiting_write_ = write_queued_ = timed_out_ = false;
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

    // A connection that never sends a byte is cut by the header timeout, like a slow one.
    srv.start_wait(*this, wait_kind::header);
    shm::add(srv.counters().connections_idle);
}

void connection::start() noexcept {
    // The optimistic read: with TCP_DEFER_ACCEPT on the listener the request is usually here
    // already, and then no poll registration is needed before the answer.
    uv_buf_t buf;
    alloc_input(&buf);
    ssize_t n;
    do {
        n = ::read(fd_, buf.base, buf.len);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        in_->commit(static_cast<std::size_t>(n));
        shm::add(srv_->counters().bytes_in, static_cast<std::uint64_t>(n));
        on_input();
        // An incomplete head waits for the rest on the loop (a busy or closed connection
        // decides for itself whether it needs the loop).
        if (phase_ == phase::head) restart_reading();
        return;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        on_peer_gone(n == 0 ? UV_EOF : -errno);
        return;
    }
    release_input_if_empty();  // nothing yet: no buffer while the connection waits
    // Accepted with nothing to read: the kernel held it back for the whole deferral.
    if (srv_->accept_deferral_ms() != 0) srv_->start_wait(*this, wait_kind::header_after_deferral);
    restart_reading();
}

void connection::refuse(unsigned status) noexcept {
    send_error_and_close(status);
}

// ---------------------------------------------------------------- reading

void connection::set_nodelay() noexcept {
    // Like nginx's tcp_nodelay: only a connection that lives on (keep-alive) or whose answer
    // needs several writes can have Nagle delay a segment; a one-request connection never does,
    // and skipping setsockopt keeps it at accept4, read, write, close.
    if (nodelay_) return;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    nodelay_ = true;
}

bool connection::ensure_registered() noexcept {
    if (registered_) return true;
    uv_tcp_init(srv_->loop(), &tcp_);
    tcp_.data = this;
    registered_ = true;  // from here on the handle owns the descriptor and closes it
    if (int rc = uv_tcp_open(&tcp_, fd_); rc != 0) {
        FF_LOG_ERROR("uv_tcp_open(fd %d) failed: %s", fd_, uv_strerror(rc));
        ::close(fd_);  // a handle that failed to open does not own it
        fd_ = -1;      // the number may be reused at once: no later call may touch it
        peer_error_ = rc;
        return false;
    }
    return true;
}

void connection::restart_reading() noexcept {
    if (reading_ || peer_error_ || phase_ == phase::closing) return;
    if (!ensure_registered()) {
        // Not in the middle of a request (a waiting fiber checks peer_error_ when resumed).
        if (phase_ != phase::busy) close_now();
        return;
    }
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read) == 0) reading_ = true;
}

void connection::on_alloc(uv_handle_t* handle, std::size_t /*suggested*/, uv_buf_t* buf) noexcept {
    auto* self = static_cast<connection*>(handle->data);
    FF_ASSERT(self);
    self->alloc_input(buf);
}

void connection::alloc_input(uv_buf_t* buf) noexcept {
    if (!in_) in_ = srv_->buffers().acquire();
    if (phase_ == phase::linger) {
        in_->clear();  // lingering: input is read only to be discarded
        rd_ = 0;
    }
    // While the handler runs, its views (and the handler's own copies of them) point into the
    // buffer: it must not move. Pipelined input then only fills the space left; when there is
    // none, reading pauses (backpressure). Before and after the handler, a parsed head's views
    // can follow a reallocation (rebase), but not a compaction.
    if (pin_ == input_pin::none && rd_ == in_->size()) {
        in_->clear();
        rd_ = 0;
    }
    std::size_t space = in_->capacity() - in_->size();
    if (space < min_read_space && pin_ != input_pin::in_handler) {
        if (rd_ > 0 && pin_ == input_pin::none) {
            in_->consume(rd_);  // parser offsets are relative to rd_, so moving the tail is safe
            rd_ = 0;
        }
        space = in_->capacity() - in_->size();
        // Bounded: a head larger than max_head is rejected, and a body is consumed as it
        // arrives, so only a client pipelining without reading our answers hits the cap.
        std::size_t cap = srv_->opts().limits.max_head + 64 * 1024;
        if (space < min_read_space && in_->size() - rd_ < cap) grow_input(min_read_space);
    }
    buf->base = in_->data() + in_->size();
    buf->len = in_->capacity() - in_->size();
}

bool connection::grow_input(std::size_t min_free) noexcept {
    FF_INVARIANT(pin_ != input_pin::in_handler, "read buffer moved under a running handler's views");
    const char* old_base = in_->data();
    try {
        in_->reserve(in_->size() + (in_->size() > min_free ? in_->size() : min_free));
    } catch (const std::bad_alloc&) {
        return false;
    }
    if (pin_ == input_pin::head_views && ex_ && in_->data() != old_base) ex_->parser.rebase(old_base, in_->data());
    return true;
}

void connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* /*buf*/) noexcept {
    auto* self = static_cast<connection*>(stream->data);
    FF_ASSERT(self);
    if (nread > 0) {
        self->in_->commit(static_cast<std::size_t>(nread));
        shm::add(self->srv_->counters().bytes_in, static_cast<std::uint64_t>(nread));
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
            if (waiting_input_) srv_->fibers().resume(fiber_);
            return;
        case phase::idle:
            phase_ = phase::head;
            shm::sub(srv_->counters().connections_idle);
            ex_ = srv_->exchanges().acquire();
            set_remote_on(ex_->ctx);
            parse_head();
            // The header timeout starts with the head's first byte, but only a head still
            // incomplete after this read needs it: one that is complete went to a fiber, which
            // leaves every timeout list (start_fiber), and an error closed the connection. So
            // the wait starts after parsing, stamped with the same loop time as before it
            // (libuv updates that time only between callbacks), and the common complete head
            // costs no list move. A fresh connection already waits under the header timeout
            // since its accept and keeps that stamp.
            if (phase_ == phase::head && !srv_->is_waiting(*this, wait_kind::header) &&
                !srv_->is_waiting(*this, wait_kind::header_after_deferral))
                srv_->start_wait(*this, wait_kind::header);
            return;
        case phase::head:
            parse_head();
            return;
        case phase::closing:
            return;
    }
}

void connection::set_remote_on(http::request_ctx& ctx) const noexcept {
    constexpr auto format = [](const void* self, char* out, std::size_t cap) noexcept {
        const auto* c = static_cast<const connection*>(self);
        return format_address(c->peer_family_, c->peer_addr_, out, cap);
    };
    ctx.set_remote_source(this, format, peer_port_);
    ctx.set_remote_address(peer_addr_, peer_family_ == AF_INET ? 4 : peer_family_ == AF_INET6 ? 16 : 0);
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
            if (waiting_input_) srv_->fibers().resume(fiber_);
            return;
        case phase::closing:
            return;
        default:
            close_now();
            return;
    }
}

http::parser::state connection::feed_head() noexcept {
    auto r = ex_->parser.feed(in_->data() + rd_, in_->size() - rd_);
    if (r.state == http::parser::state::done) {
        ex_->head_size = r.consumed;
        mark_head_done();
        set_pin(input_pin::head_views);
    } else if (r.state == http::parser::state::error) {
        count_parse_error(r.err);
        answer_error(http::status_of(r.err));
    }
    return r.state;
}

void connection::parse_head() noexcept {
    switch (feed_head()) {
        case http::parser::state::need_more:
            return;
        case http::parser::state::error:
            flush_and_close();
            return;
        case http::parser::state::done:
            start_fiber();
            return;
    }
}

void connection::start_fiber() noexcept {
    fiber* f = srv_->fibers().try_acquire();
    if (!f) {
        // fasthttp's "concurrency limit exceeded": answer at once rather than queue.
        shm::add(srv_->counters().connections_refused[static_cast<int>(shm::refusal::concurrency)]);
        send_error_and_close(503);
        return;
    }
    fiber_ = f;
    phase_ = phase::busy;
    timeout_list::unlink(*this);  // no timeout while a handler runs; the master's watchdog covers hangs
    srv_->fibers().start(f, serve_entry, this);
}

// ---------------------------------------------------------------- writing

bool connection::flush() noexcept {
    if (!out_ || out_->empty()) return true;
    FF_INVARIANT(!write_queued_, "flush while a write is queued");
    if (peer_error_ && peer_error_ != UV_EOF) {
        out_->clear();  // reset by the peer: nothing can be delivered
        return false;
    }
    const std::size_t total = out_->size();
    // write(2) itself, registered or not: nothing is queued in libuv here (checked above), so
    // this is what uv_try_write would do, minus its checks.
    ssize_t n;
    do {
        n = ::write(fd_, out_->data(), total);
    } while (n < 0 && errno == EINTR);
    if (n >= 0 && static_cast<std::size_t>(n) == total) {
        shm::add(srv_->counters().bytes_out, total);
        out_->clear();
        return true;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        out_->clear();
        peer_error_ = -errno;
        return false;
    }
    std::size_t written = n < 0 ? 0 : static_cast<std::size_t>(n);
    shm::add(srv_->counters().bytes_out, written);
    if (fiber_pool::current() != fiber_ || fiber_ == nullptr || !ex_) {
        // Loop context (an error answer before any fiber): nothing may wait here. Error
        // answers are a few hundred bytes into a fresh socket, so this does not happen in practice.
        out_->clear();
        return false;
    }
    set_nodelay();  // the rest goes out in several segments: Nagle must not hold them back
    if (!ensure_registered()) {
        out_->clear();
        return false;
    }
    uv_buf_t b = uv_buf_init(out_->data() + written, static_cast<unsigned>(total - written));
    ex_->write_req.data = this;
    if (int rc = uv_write(&ex_->write_req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, on_write_done); rc != 0) {
        out_->clear();
        peer_error_ = rc;
        return false;
    }
    // From here until on_write_done, libuv holds ex_->write_req and points into out_: neither
    // may go back to its pool (release_request_state and on_closed check this flag).
    write_queued_ = true;
    waiting_write_ = true;
    srv_->start_wait(*this, wait_kind::write);
    fiber_->suspend();
    waiting_write_ = false;
    timeout_list::unlink(*this);
    if (timed_out_) {
        // The write is still queued in libuv: close_now() cancels it (on_write_done runs with
        // UV_ECANCELED before on_closed), so out_ and the exchange stay alive until then.
        timed_out_ = false;
        return false;
    }
    if (write_status_ < 0) {
        peer_error_ = write_status_;
        return false;
    }
    shm::add(srv_->counters().bytes_out, total - written);
    out_->clear();
    return true;
}

void connection::on_write_done(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<connection*>(req->data);
    FF_ASSERT(self);
    self->write_queued_ = false;
    self->write_status_ = status;
    if (self->waiting_write_ && self->phase_ == phase::busy) self->srv_->fibers().resume(self->fiber_);
}

void connection::count_parse_error(http::error err) noexcept {
    static_assert(static_cast<std::size_t>(http::error::body_too_large) < shm::parse_error_kinds,
                  "shm::parse_errors_by_kind needs a cell for every http::error");
    shm::count_parse_error(srv_->counters(), static_cast<unsigned>(err));
}

void connection::answer_error(unsigned status) noexcept {
    try {
        if (!out_) out_ = srv_->buffers().acquire();
        http::write_error_response(status, srv_->http_date(), srv_->opts().server_name, *out_);
        shm::count_status(srv_->counters(), status);
        notify_completed(status, http::status_body(status).size());
    } catch (const std::bad_alloc&) {
        // Nothing to send; the connection is closed by the caller anyway.
    }
}

void connection::notify_completed(unsigned status, std::uint64_t bytes) noexcept {
    if (!srv_->has_observers()) return;
    completed_request r;
    r.status = status;
    r.bytes = bytes;
    char text[INET6_ADDRSTRLEN];
    if (ex_) {
        r.remote = ex_->ctx.remote_ip();
    } else {
        r.remote = std::string_view(text, format_address(peer_family_, peer_addr_, text, sizeof text));
    }
    if (ex_ && ex_->head_size != 0) {  // else the head was never parsed: no request line
        r.request = &ex_->parser.get();
        // The histogram's reading when record_latency ran (it did for every handler response).
        const std::uint64_t now = ex_->answered_ns != 0 ? ex_->answered_ns : srv_->clock().now_ns();
        r.duration_us = now > ex_->head_done_ns ? (now - ex_->head_done_ns) / 1000 : 0;
    }
    srv_->notify_completed(r);
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
    if (in_ && rd_ == in_->size() && pin_ == input_pin::none) {
        srv_->buffers().release(in_);
        in_ = nullptr;
        rd_ = 0;
    }
}

void connection::release_request_state() noexcept {
    FF_INVARIANT(!write_queued_, "request state released while libuv still holds its write");
    fiber_ = nullptr;
    set_pin(input_pin::none);
    if (ex_) {
        srv_->exchanges().release(ex_);
        ex_ = nullptr;
    }
    if (out_) {
        srv_->buffers().release(out_);
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
    shm::add(srv_->counters().connections_idle);
    srv_->start_wait(*this, wait_kind::idle);
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
    if (phase_ == phase::idle) shm::sub(srv_->counters().connections_idle);
    // Half-close, then read and discard until the peer's FIN: closing with unread input makes
    // the kernel send RST, which can destroy the response still in flight to the client.
    phase_ = phase::linger;
    release_request_state();
    if (in_) {
        in_->clear();
        rd_ = 0;
    }
    ::shutdown(fd_, SHUT_WR);
    srv_->start_wait(*this, wait_kind::linger);
    restart_reading();
}

void connection::close_now() noexcept {
    if (phase_ == phase::closing) return;
    if (phase_ == phase::idle) shm::sub(srv_->counters().connections_idle);
    phase_ = phase::closing;
    timeout_list::unlink(*this);
    reading_ = false;
    if (registered_) {
        uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_closed);
        return;
    }
    // Never on the loop: nothing in epoll to remove, nothing queued, no callback to wait for.
    // Every caller returns right after closing, so the memory can go back at once.
    ::close(fd_);
    release_closed();
}

void connection::close_unregistered_socket() noexcept {
    if (registered_ || fd_ < 0 || phase_ == phase::closing) return;
    ::close(fd_);
    fd_ = -1;
}

void connection::on_closed(uv_handle_t* handle) noexcept {
    auto* self = static_cast<connection*>(handle->data);
    FF_ASSERT(self);
    self->release_closed();
}

void connection::release_closed() noexcept {
    // libuv completes every queued write (UV_ECANCELED) before the close callback.
    FF_INVARIANT(!write_queued_, "connection closed with a write still queued");
    server& srv = *srv_;
    if (in_) srv.buffers().release(in_);
    if (out_) srv.buffers().release(out_);
    if (ex_) srv.exchanges().release(ex_);
    in_ = out_ = nullptr;
    ex_ = nullptr;
    fd_ = -1;
    srv.on_connection_closed(*this);
}

void connection::on_timeout(wait_kind kind) noexcept {
    auto count = [&](shm::timeout_kind k) { shm::add(srv_->counters().timeouts[static_cast<int>(k)]); };
    switch (kind) {
        case wait_kind::linger:
            close_now();
            return;
        case wait_kind::header:
        case wait_kind::header_after_deferral:
            timeout_list::unlink(*this);
            if (phase_ == phase::head) {
                count(shm::timeout_kind::header);
                send_error_and_close(408);  // RFC 9110 §15.5.9: the slowloris defence
            } else {
                close_gracefully();  // connected but never sent a byte
            }
            return;
        case wait_kind::idle:
            timeout_list::unlink(*this);
            if (!srv_->is_draining()) count(shm::timeout_kind::idle);
            close_gracefully();
            return;
        case wait_kind::body:
        case wait_kind::write:
            // Wake the fiber, which answers or closes.
            count(kind == wait_kind::write ? shm::timeout_kind::write : shm::timeout_kind::body);
            timeout_list::unlink(*this);
            timed_out_ = true;
            srv_->fibers().resume(fiber_);
            return;
    }
}

}  // namespace fastfork::worker
