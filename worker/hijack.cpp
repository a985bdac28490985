// Connection hijack (worker): the hand-over from the request loop, the hijacked phase's calls on
// the connection, and byte_stream, the fiber-side view of a hijacked connection.

#include "worker/hijack.hpp"

#include <boost/context/detail/exception.hpp>
#include <cstring>
#include <exception>

#include "worker/connection.hpp"
#include "worker/exchange.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

void hijack(http::request_ctx& ctx, takeover& t) noexcept {
    if (auto* old = static_cast<takeover*>(ctx.takeover()); old && old != &t) old->on_abandoned();
    ctx.set_takeover(&t);
}

// ---------------------------------------------------------------- the hand-over

void connection::abandon_takeover() noexcept {
    if (!ex_) return;
    if (auto* t = static_cast<takeover*>(ex_->ctx.takeover())) {
        ex_->ctx.set_takeover(nullptr);
        t->on_abandoned();
    }
}

connection::next_step connection::hand_over(takeover& t) {
    ex_->ctx.set_takeover(nullptr);
    // The response (and any pipelined ones before it) goes out first, in full: from here on the
    // socket carries the new protocol, and our own writes must not interleave with it.
    if (!flush() || peer_error_ || !ensure_registered()) {
        t.on_abandoned();
        close_now();
        return next_step::closed;
    }
    set_nodelay();  // a stream of small messages: Nagle would hold each one back
    phase_ = phase::hijacked;
    try {
        srv_->add_hijacked(*this);
    } catch (const std::bad_alloc&) {
        t.on_abandoned();
        close_now();
        return next_step::closed;
    }
    // The request is over: its exchange and write buffer go back to their pools. The read
    // buffer keeps what followed the request's head; rd_ already points past it.
    release_request_state();
    try {
        t.on_hijacked(*this);
    } catch (const boost::context::detail::forced_unwind&) {
        throw;
    } catch (const std::exception& e) {
        FF_LOG_ERROR("connection %llu: takeover threw: %s", static_cast<unsigned long long>(id_), e.what());
        if (phase_ == phase::hijacked) end_hijack(false);
        return next_step::closed;
    } catch (...) {
        FF_LOG_ERROR("connection %llu: takeover threw", static_cast<unsigned long long>(id_));
        if (phase_ == phase::hijacked) end_hijack(false);
        return next_step::closed;
    }
    if (phase_ == phase::hijacked && !owner_) end_hijack(true);
    return next_step::closed;
}

void connection::release_hijack() noexcept {
    srv_->remove_hijacked(*this);
    if (stream_owner* o = owner_) {
        owner_ = nullptr;
        o->on_closed(*this);
    }
}

// ---------------------------------------------------------------- the owner's calls

void connection::own(stream_owner& o) noexcept {
    owner_ = &o;
}

std::string_view connection::hijacked_input() const noexcept {
    if (!in_) return {};
    return {in_->data() + rd_, in_->size() - rd_};
}

void connection::consume_input(std::size_t n) noexcept {
    if (!in_) return;
    rd_ += n;
    FF_ASSERT(rd_ <= in_->size());
    // An idle hijacked connection holds no buffer, like an idle keep-alive one. Not while libuv
    // is reading into it: alloc_input hands out a fresh one then.
    release_input_if_empty();
}

void connection::pause_reading() noexcept {
    if (!reading_) return;
    uv_read_stop(stream());
    reading_ = false;
}

void connection::resume_reading() noexcept {
    restart_reading();
}

void connection::wait(wait_kind kind) noexcept {
    srv_->start_wait(*this, kind);
}

void connection::stop_waiting() noexcept {
    timeout_list::unlink(*this);
}

void connection::end_hijack(bool graceful) noexcept {
    if (phase_ != phase::hijacked) return;
    if (graceful && !peer_error_) {
        close_gracefully();
        return;
    }
    close_now();
}

void connection::on_server_drain() noexcept {
    if (phase_ == phase::hijacked && owner_) owner_->on_drain(*this);
}

// ---------------------------------------------------------------- byte_stream

byte_stream::byte_stream(connection& c) noexcept : c_(c), fiber_(fiber_pool::current()) {
    write_req_.data = this;
}

void byte_stream::wake() noexcept {
    if (waiting_) c_.owning_server().fibers().resume(fiber_);
}

byte_stream::result byte_stream::read(char* buf, std::size_t cap) noexcept {
    for (;;) {
        if (closed_) return {0, UV_ECANCELED};
        std::string_view in = c_.hijacked_input();
        if (!in.empty()) {
            const std::size_t n = in.size() < cap ? in.size() : cap;
            std::memcpy(buf, in.data(), n);
            c_.consume_input(n);
            return {n, 0};
        }
        if (cap == 0) return {0, 0};
        if (draining_) return {0, UV_ECANCELED};  // nothing buffered and the worker drains: finish
        c_.wait(wait_kind::body);                 // read_timeout between reads, as for a request body
        c_.resume_reading();
        waiting_ = true;
        fiber_->suspend();
        waiting_ = false;
        if (closed_) return {0, UV_ECANCELED};
        c_.stop_waiting();
        if (timed_out_) {
            timed_out_ = false;
            return {0, UV_ETIMEDOUT};
        }
        if (c_.hijacked_input().empty() && eof_) return {0, eof_};
    }
}

byte_stream::result byte_stream::write(std::string_view data) noexcept {
    if (closed_) return {0, UV_ECANCELED};
    if (data.empty()) return {0, 0};
    uv_buf_t b = uv_buf_init(const_cast<char*>(data.data()), static_cast<unsigned>(data.size()));
    int n = uv_try_write(c_.stream(), &b, 1);
    if (n == UV_EAGAIN) n = 0;
    if (n < 0) return {0, n};
    auto& counters = c_.owning_server().counters();
    shm::add(counters.bytes_out, static_cast<std::uint64_t>(n));
    if (static_cast<std::size_t>(n) == data.size()) return {data.size(), 0};
    // The rest waits in libuv, pointing into the caller's bytes: the fiber stays suspended (so
    // they stay alive) until it is written.
    b = uv_buf_init(const_cast<char*>(data.data()) + n, static_cast<unsigned>(data.size() - n));
    if (int rc = uv_write(&write_req_, c_.stream(), &b, 1, on_write_done); rc != 0) return {std::size_t(n), rc};
    write_queued_ = true;
    c_.wait(wait_kind::write);
    waiting_ = true;
    while (write_queued_) fiber_->suspend();
    waiting_ = false;
    if (closed_) return {std::size_t(n), UV_ECANCELED};
    c_.stop_waiting();
    if (write_status_ < 0) return {std::size_t(n), write_status_};
    shm::add(counters.bytes_out, data.size() - n);
    return {data.size(), 0};
}

void byte_stream::on_write_done(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<byte_stream*>(req->data);
    self->write_queued_ = false;
    self->write_status_ = status;
    self->wake();
}

void byte_stream::on_input(connection& /*c*/) noexcept {
    wake();
}

void byte_stream::on_peer_gone(connection& /*c*/, int status) noexcept {
    eof_ = status;
    wake();
}

void byte_stream::on_timeout(connection& c, wait_kind /*kind*/) noexcept {
    if (write_queued_) {
        // The write made no progress for write_timeout: close; libuv cancels it and
        // on_write_done wakes the writer with UV_ECANCELED before on_closed.
        c.end_hijack(false);
        return;
    }
    timed_out_ = true;
    wake();
}

void byte_stream::on_drain(connection& /*c*/) noexcept {
    draining_ = true;
    if (!write_queued_) wake();  // a waiting read returns UV_ECANCELED
}

void byte_stream::on_closed(connection& /*c*/) noexcept {
    // The connection's memory goes back to the pool after this: the fiber must learn it now,
    // before it touches c_ again.
    closed_ = true;
    wake();
}

void stream_takeover::on_hijacked(connection& c) {
    byte_stream s(c);
    c.own(s);
    struct ender {
        connection& c;
        byte_stream& s;
        ~ender() {
            // `s` dies with this frame: the connection must not call it again. Either it is
            // closed already (closed_), or it ends here and its owner is dropped first.
            if (!s.closed()) {
                c.own_none();
                c.end_hijack(true);
            }
        }
    } end{c, s};
    serve(s);
}

}  // namespace fastfork::worker
