// One WebSocket connection in the worker: frames are read on the loop (websocket::message_reader
// over the connection's read buffer), control frames are answered there, and a complete
// message wakes a pooled fiber that runs the handler's callback (see the header for why).

#include "worker/websocket_session.hpp"

#include <boost/context/detail/exception.hpp>
#include <exception>

#include "shm/counters.hpp"
#include "websocket/frame_writer.hpp"
#include "worker/connection.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

namespace {
std::size_t open_sessions = 0;
// RFC 6455 §7.4.1 registry (IANA): 1013 Try Again Later, for a worker at its fiber cap.
constexpr auto try_again_later = static_cast<ws::close_code>(1013);
}  // namespace

std::size_t open_websockets() noexcept {
    return open_sessions;
}

class websocket_session final : public takeover, public stream_owner {
public:
    websocket_session(server& srv, websocket_handler& h, const ws::handshake_result& hs)
        : srv_(srv),
          handler_(h),
          reader_(ws::reader_options{srv.opts().websocket.max_message, true}),
          subprotocol_(hs.subprotocol) {
        if (hs.has_deflate) {
            inflater_ = std::make_unique<ws::inflater>(hs.deflate);
            deflater_ = std::make_unique<ws::deflater>(hs.deflate);
            reader_.set_inflater(inflater_.get());
        }
    }

    // ---- takeover: on the request's fiber, right after the 101 went out ----
    void on_hijacked(connection& c) override {
        c_ = &c;
        c.own(*this);
        ++open_sessions;
        shm::add(srv_.counters().websockets_open);
        shm::add(srv_.counters().websockets_accepted);
        last_message_ms_ = uv_now(srv_.loop());
        rearm();
        if (srv_.is_draining()) on_drain(c);
        // A client may send its first frames right behind the handshake: they are in the read
        // buffer already, and this fiber handles them before it goes back to the pool.
        if (process()) {
            fiber_ = fiber_pool::current();
            run_messages();
            return;
        }
        if (detached_) return;
        c.consume_input(0);  // the handshake's read buffer, now empty, goes back to the pool
        c.resume_reading();
    }
    void on_abandoned() noexcept override { delete this; }

    // ---- stream_owner: on the loop ----
    void on_input(connection& /*c*/) noexcept override {
        if (busy_ || detached_) return;
        awaiting_pong_ = false;
        if (!close_sent_) rearm();  // the silence before a keep-alive ping starts again
        if (process()) start_fiber();
    }
    void on_peer_gone(connection& /*c*/, int /*status*/) noexcept override {
        // A close handshake already done, or the client just dropped (1006 on its side).
        end(false);
    }
    void on_timeout(connection& /*c*/, wait_kind kind) noexcept override {
        if (detached_) return;
        if (kind == wait_kind::write || kind == wait_kind::linger) {
            count_timeout(kind == wait_kind::write ? shm::timeout_kind::write : shm::timeout_kind::idle);
            end(false);  // the peer does not read, or never answered our close
            return;
        }
        if (busy_ || close_sent_) {
            rearm();
            return;
        }
        const auto& o = srv_.opts().websocket;
        const std::uint64_t now = uv_now(srv_.loop());
        if (o.idle_timeout.count() > 0 &&
            now - last_message_ms_ >= static_cast<std::uint64_t>(o.idle_timeout.count())) {
            count_timeout(shm::timeout_kind::idle);
            start_close(ws::close_code::normal, "idle timeout");
            return;
        }
        if (o.ping_interval.count() > 0) {
            if (awaiting_pong_) {  // a whole interval without a byte after our ping: the peer is gone
                count_timeout(shm::timeout_kind::idle);
                end(false);
                return;
            }
            awaiting_pong_ = true;
            send_control(ws::opcode::ping, {});
        }
        rearm();
    }
    void on_drain(connection& /*c*/) noexcept override {
        draining_ = true;
        start_close(ws::close_code::going_away, "server shutting down");
    }
    void on_closed(connection& /*c*/) noexcept override {
        closed_ = true;
        detached_ = true;
        --open_sessions;
        shm::sub(srv_.counters().websockets_open);
        release_buffers();
        if (!busy_) delete this;  // else the fiber that runs a callback deletes it when it ends
    }

    // ---- the websocket_conn side, on the callback's fiber ----
    bool send(ws::opcode op, std::string_view payload);
    void start_close(ws::close_code code, std::string_view reason) noexcept;
    [[nodiscard]] std::string_view subprotocol() const noexcept { return subprotocol_; }
    [[nodiscard]] std::uint64_t connection_id() const noexcept { return c_ ? c_->id() : 0; }

private:
    ~websocket_session() = default;

    struct control_queue {
        uv_write_t req{};
        http::byte_buffer* pending = nullptr;  // frames not yet handed to libuv
        http::byte_buffer* flying = nullptr;   // the frames libuv is writing (stable until done)
        bool queued = false;
    };

    bool process() noexcept;
    void start_fiber() noexcept;
    static void run_entry(void* self);
    void run_messages();
    void deliver();
    void send_control(ws::opcode op, std::string_view payload) noexcept;
    void queue_close(ws::close_code code, std::string_view reason) noexcept;
    void flush_control() noexcept;
    static void on_control_written(uv_write_t* req, int status) noexcept;
    static void on_data_written(uv_write_t* req, int status) noexcept;
    [[nodiscard]] bool writing() const noexcept {
        return data_queued_ || (cq_ && (cq_->queued || (cq_->pending && !cq_->pending->empty())));
    }
    void rearm() noexcept;
    void maybe_finish() noexcept;
    void end(bool graceful) noexcept;
    void release_buffers() noexcept;
    void count_timeout(shm::timeout_kind k) noexcept { shm::add(srv_.counters().timeouts[static_cast<int>(k)]); }

    server& srv_;
    websocket_handler& handler_;
    connection* c_ = nullptr;
    ws::message_reader reader_;
    std::unique_ptr<ws::inflater> inflater_;
    std::unique_ptr<ws::deflater> deflater_;
    std::unique_ptr<control_queue> cq_;  // only once a control frame did not go out at once
    std::string subprotocol_;
    http::byte_buffer* msg_ = nullptr;  // the reader's message buffer, while a message is in progress
    fiber* fiber_ = nullptr;            // runs callbacks while busy_
    ws::event pending_;                 // the message being delivered
    std::uint64_t last_message_ms_ = 0;
    int data_status_ = 0;
    bool busy_ = false;            // a message is being delivered (on fiber_): the input is not read
    bool data_queued_ = false;     // a data frame's write is queued in libuv; fiber_ waits for it
    bool close_sent_ = false;      // our close frame is queued or sent
    bool close_received_ = false;  // the client's close frame arrived
    bool ending_ = false;          // close once every write is out
    bool awaiting_pong_ = false;   // a keep-alive ping is unanswered
    bool draining_ = false;
    bool detached_ = false;  // end() was called or the connection closed: c_ must not be used
    bool closed_ = false;    // on_closed came: c_ is gone
};

// ---------------------------------------------------------------- reading

bool websocket_session::process() noexcept {
    while (!detached_ && !ending_) {
        std::string_view in = c_->hijacked_input();
        if (in.empty()) {
            if (msg_ && reader_.is_idle()) {  // nothing half-received: no buffer while idle
                srv_.buffers().release(msg_);
                msg_ = nullptr;
            }
            return false;
        }
        if (!msg_) msg_ = srv_.buffers().acquire();
        const ws::event ev = reader_.read(const_cast<char*>(in.data()), in.size(), *msg_);
        switch (ev.type) {
            case ws::event_type::need_more:
                c_->consume_input(ev.consumed);
                continue;
            case ws::event_type::message:
                // Its payload may point into the read buffer: consumed only once delivered, and
                // the connection is not read meanwhile, so the buffer stays where it is.
                pending_ = ev;
                busy_ = true;
                c_->pause_reading();
                return true;
            case ws::event_type::ping:
                send_control(ws::opcode::pong, ev.payload);  // copies the payload before it goes
                c_->consume_input(ev.consumed);
                continue;
            case ws::event_type::pong:
                c_->consume_input(ev.consumed);
                continue;
            case ws::event_type::close:
                close_received_ = true;
                // RFC 6455 §5.5.1: answer with the code received; then the server closes TCP first.
                if (!close_sent_)
                    queue_close(ev.code == ws::close_code::no_status ? ws::close_code::no_status : ev.code, {});
                c_->consume_input(in.size());
                ending_ = true;
                maybe_finish();
                return false;
            case ws::event_type::error:
                shm::add(srv_.counters().websocket_errors);
                queue_close(ev.code, ws::to_string(ev.code));
                c_->consume_input(in.size());
                ending_ = true;  // no reply awaited after a protocol error (RFC 6455 §7.1.7)
                maybe_finish();
                return false;
        }
    }
    return false;
}

void websocket_session::start_fiber() noexcept {
    fiber* f = srv_.fibers().try_acquire();
    if (!f) {
        shm::add(srv_.counters().connections_refused[static_cast<int>(shm::refusal::concurrency)]);
        c_->consume_input(pending_.consumed);
        busy_ = false;
        start_close(try_again_later, "concurrency limit");
        return;
    }
    fiber_ = f;
    srv_.fibers().start(f, run_entry, this);
}

void websocket_session::run_entry(void* self) {
    static_cast<websocket_session*>(self)->run_messages();
}

void websocket_session::run_messages() {
    for (;;) {
        deliver();
        if (!detached_) c_->consume_input(pending_.consumed);
        busy_ = false;
        if (closed_) {
            fiber_ = nullptr;
            delete this;
            return;
        }
        if (!process()) break;  // another complete message was buffered: this fiber takes it
    }
    fiber_ = nullptr;
    if (detached_) return;
    maybe_finish();
    if (!detached_ && !ending_) c_->resume_reading();
}

void websocket_session::deliver() {
    shm::add(srv_.counters().websocket_messages_in);
    shm::add(srv_.counters().websocket_bytes_in, pending_.payload.size());
    last_message_ms_ = uv_now(srv_.loop());
    websocket_conn conn(*this);
    try {
        handler_.on_message(conn, pending_.op, pending_.payload);
    } catch (const boost::context::detail::forced_unwind&) {
        throw;
    } catch (const std::exception& e) {
        FF_LOG_ERROR("websocket %llu: handler threw: %s", static_cast<unsigned long long>(connection_id()), e.what());
        shm::add(srv_.counters().handler_exceptions);
        start_close(ws::close_code::internal_error, "handler failed");
        ending_ = true;
    } catch (...) {
        FF_LOG_ERROR("websocket %llu: handler threw", static_cast<unsigned long long>(connection_id()));
        shm::add(srv_.counters().handler_exceptions);
        start_close(ws::close_code::internal_error, "handler failed");
        ending_ = true;
    }
}

// ---------------------------------------------------------------- writing

bool websocket_session::send(ws::opcode op, std::string_view payload) {
    if (detached_ || close_sent_ || ending_) return false;
    char head[ws::max_frame_header];
    uv_buf_t bufs[2];
    unsigned n = 0;
    http::byte_buffer* packed = nullptr;
    if (deflater_) {
        packed = srv_.buffers().acquire();
        ws::write_message(*packed, op, payload, deflater_.get());
        bufs[n++] = uv_buf_init(packed->data(), static_cast<unsigned>(packed->size()));
    } else {
        const std::size_t hl = ws::encode_frame_header(head, op, payload.size());
        bufs[n++] = uv_buf_init(head, static_cast<unsigned>(hl));
        if (!payload.empty())
            bufs[n++] = uv_buf_init(const_cast<char*>(payload.data()), static_cast<unsigned>(payload.size()));
    }
    std::size_t total = 0;
    for (unsigned i = 0; i < n; ++i) total += bufs[i].len;
    struct releaser {
        server& srv;
        http::byte_buffer*& b;
        ~releaser() {
            if (b) srv.buffers().release(b);
        }
    } release{srv_, packed};

    int w = uv_try_write(c_->stream(), bufs, n);
    if (w == UV_EAGAIN || w == UV_ENOSYS) w = 0;
    if (w < 0) {
        end(false);
        return false;
    }
    shm::add(srv_.counters().bytes_out, static_cast<std::uint64_t>(w));
    if (static_cast<std::size_t>(w) < total) {
        // The rest goes through libuv, pointing into the caller's payload and this frame's
        // header, both alive while this fiber waits: no copy, however large the message.
        std::size_t skip = static_cast<std::size_t>(w);
        unsigned first = 0;
        while (skip >= bufs[first].len) skip -= bufs[first++].len;
        bufs[first].base += skip;
        bufs[first].len -= static_cast<unsigned>(skip);
        uv_write_t req{};
        req.data = this;
        if (int rc = uv_write(&req, c_->stream(), bufs + first, n - first, on_data_written); rc != 0) {
            end(false);
            return false;
        }
        data_queued_ = true;
        rearm();
        while (data_queued_) fiber_->suspend();
        if (detached_) return false;  // closed meanwhile (libuv cancelled the write)
        if (data_status_ < 0) {
            end(false);
            return false;
        }
        shm::add(srv_.counters().bytes_out, total - static_cast<std::size_t>(w));
        rearm();
        flush_control();  // control frames that waited behind this frame
    }
    shm::add(srv_.counters().websocket_messages_out);
    shm::add(srv_.counters().websocket_bytes_out, payload.size());
    return true;
}

void websocket_session::on_data_written(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<websocket_session*>(req->data);
    self->data_queued_ = false;
    self->data_status_ = status;
    self->srv_.fibers().resume(self->fiber_);
}

void websocket_session::start_close(ws::close_code code, std::string_view reason) noexcept {
    if (detached_ || close_sent_) return;
    queue_close(code, reason);
    rearm();  // waits for the client's close: linger_timeout, or the drain's deadline
}

void websocket_session::queue_close(ws::close_code code, std::string_view reason) noexcept {
    if (close_sent_) return;
    close_sent_ = true;
    try {
        if (!cq_) cq_ = std::make_unique<control_queue>();
        if (!cq_->pending) cq_->pending = srv_.buffers().acquire();
        ws::write_close(*cq_->pending, code, reason);
    } catch (const std::bad_alloc&) {
        end(false);
        return;
    }
    flush_control();
}

void websocket_session::send_control(ws::opcode op, std::string_view payload) noexcept {
    if (close_sent_ || detached_) return;  // RFC 6455 §5.5.1: nothing after our close
    try {
        if (!cq_) cq_ = std::make_unique<control_queue>();
        if (!cq_->pending) cq_->pending = srv_.buffers().acquire();
        if (op == ws::opcode::pong)
            ws::write_pong(*cq_->pending, payload);
        else
            ws::write_ping(*cq_->pending, payload);
    } catch (const std::bad_alloc&) {
        end(false);
        return;
    }
    flush_control();
}

void websocket_session::flush_control() noexcept {
    if (detached_ || !cq_ || cq_->queued || data_queued_ || !cq_->pending || cq_->pending->empty()) {
        if (!writing()) maybe_finish();
        return;
    }
    http::byte_buffer* b = cq_->pending;
    uv_buf_t buf = uv_buf_init(b->data(), static_cast<unsigned>(b->size()));
    int w = uv_try_write(c_->stream(), &buf, 1);
    if (w == UV_EAGAIN || w == UV_ENOSYS) w = 0;
    if (w < 0) {
        end(false);
        return;
    }
    shm::add(srv_.counters().bytes_out, static_cast<std::uint64_t>(w));
    if (static_cast<std::size_t>(w) == b->size()) {
        b->clear();
        maybe_finish();
        return;
    }
    b->consume(static_cast<std::size_t>(w));
    // The rest waits in libuv; new control frames collect in another buffer meanwhile.
    std::swap(cq_->pending, cq_->flying);
    if (cq_->pending) cq_->pending->clear();
    buf = uv_buf_init(cq_->flying->data(), static_cast<unsigned>(cq_->flying->size()));
    cq_->req.data = this;
    if (int rc = uv_write(&cq_->req, c_->stream(), &buf, 1, on_control_written); rc != 0) {
        end(false);
        return;
    }
    cq_->queued = true;
    rearm();
}

void websocket_session::on_control_written(uv_write_t* req, int status) noexcept {
    auto* self = static_cast<websocket_session*>(req->data);
    self->cq_->queued = false;
    if (self->cq_->flying) self->cq_->flying->clear();
    if (status < 0) {
        self->end(false);
        return;
    }
    self->rearm();
    self->flush_control();
}

// ---------------------------------------------------------------- lifetime

void websocket_session::rearm() noexcept {
    if (detached_) return;
    if (writing()) {
        c_->wait(wait_kind::write);  // write_timeout: the client must keep reading
    } else if (close_sent_) {
        // Waiting for the client's close reply. While draining the shutdown deadline bounds it
        // (the brief's "up to shutdown_timeout"); otherwise linger_timeout does.
        if (draining_)
            c_->stop_waiting();
        else
            c_->wait(wait_kind::linger);
    } else {
        c_->wait(wait_kind::hijacked);  // keep-alive ping interval / idle timeout
    }
}

void websocket_session::maybe_finish() noexcept {
    if (detached_ || !ending_ || busy_ || writing()) return;
    end(true);  // RFC 6455 §7.1.1: the server closes the TCP connection first
}

void websocket_session::end(bool graceful) noexcept {
    if (detached_) return;
    detached_ = true;
    c_->end_hijack(graceful);
}

void websocket_session::release_buffers() noexcept {
    if (msg_) srv_.buffers().release(msg_);
    msg_ = nullptr;
    if (cq_) {
        if (cq_->pending) srv_.buffers().release(cq_->pending);
        if (cq_->flying) srv_.buffers().release(cq_->flying);
        cq_->pending = cq_->flying = nullptr;
    }
}

// ---------------------------------------------------------------- websocket_conn

bool websocket_conn::send(ws::opcode op, std::string_view payload) {
    return s_.send(op, payload);
}

void websocket_conn::close(ws::close_code code, std::string_view reason) noexcept {
    s_.start_close(code, reason);
}

std::string_view websocket_conn::subprotocol() const noexcept {
    return s_.subprotocol();
}

std::uint64_t websocket_conn::connection_id() const noexcept {
    return s_.connection_id();
}

// ---------------------------------------------------------------- the upgrade

namespace {
bool origin_in_list(std::string_view origin, void* user) noexcept {
    const auto* route = static_cast<const websocket_route*>(user);
    for (const std::string& o : route->origins)
        if (o == origin) return true;
    return false;
}
}  // namespace

bool upgrade_websocket(http::request_ctx& ctx, const websocket_route& route, websocket_handler& h) {
    server* srv = server::current();
    if (!srv) {
        ctx.set_status(503);
        ctx.set_body_static("503 no server is running in this process\n");
        return false;
    }
    constexpr std::size_t max_protocols = 16;
    std::string_view protocols[max_protocols];
    std::size_t np = 0;
    for (const std::string& p : route.subprotocols)
        if (np < max_protocols) protocols[np++] = p;
    ws::handshake_options ho;
    ho.subprotocols = std::span<const std::string_view>(protocols, np);
    if (route.check_origin) {
        ho.check_origin = route.check_origin;
        ho.origin_user = route.origin_user;
    } else if (!route.origins.empty()) {
        ho.check_origin = origin_in_list;
        ho.origin_user = const_cast<websocket_route*>(&route);
    }
    ho.deflate.enabled = srv->opts().websocket.deflate;
    const ws::handshake_result hr = ws::check_upgrade(ctx.request(), ho);
    if (!hr.ok()) {
        ctx.set_status(hr.status);
        if (hr.error == ws::handshake_error::bad_version) ctx.add_header("Sec-WebSocket-Version", "13");
        ctx.set_content_type("text/plain");
        std::string body(ws::to_string(hr.error));
        body += '\n';
        ctx.set_body(body);
        ctx.response().set_close(true);
        return false;
    }
    ctx.set_status(101);
    ctx.add_header("Upgrade", "websocket");
    ctx.add_header("Sec-WebSocket-Accept", std::string_view(hr.accept.data(), hr.accept.size()));
    if (!hr.subprotocol.empty()) ctx.add_header("Sec-WebSocket-Protocol", hr.subprotocol);
    if (hr.has_deflate) {
        http::byte_buffer line;
        ws::write_deflate_answer(hr.deflate, line);
        std::string_view v = line.view();
        constexpr std::string_view name = "Sec-WebSocket-Extensions: ";
        if (v.starts_with(name)) v.remove_prefix(name.size());
        while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
        ctx.add_header("Sec-WebSocket-Extensions", v);
    }
    hijack(ctx, *new websocket_session(*srv, h, hr));
    return true;
}

}  // namespace fastfork::worker
