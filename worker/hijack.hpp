#pragma once
// Taking a connection over after its response (worker): fasthttp's Hijack. A handler names a
// takeover (worker::hijack); once the response is written, the worker stops parsing HTTP on the
// connection and hands it, with the bytes the client sent after the request, to the takeover.
// The worker still owns the socket, its memory, its timeouts and its drain.
//
// Two ways to use a hijacked connection:
// - a stream_owner reacts to loop events (input, peer gone, timeout, drain, closed) and holds
//   no fiber while nothing happens: the WebSocket runtime (worker/websocket_session.hpp);
// - a stream_takeover runs straight-line code on the request's fiber with a byte_stream whose
//   read and write suspend the fiber (fasthttp's net.Conn): simple, but it holds its fiber.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_ctx.hpp"
#include "worker/wait_kind.hpp"

namespace fastfork::worker {

class connection;

/// What takes a connection over once its response is written. Not owned by the worker.
class takeover {
public:
    /// The response went out in full and `c` is now hijacked: no more HTTP on it. Its read
    /// buffer (connection::hijacked_input) holds what the client sent after the request. Runs on
    /// the request's fiber; the request and its ctx are gone. Install a stream_owner
    /// (connection::own) to keep the connection after returning; otherwise it is closed
    /// gracefully when this returns. An exception is logged and closes the connection.
    virtual void on_hijacked(connection& c) = 0;
    /// The connection was never handed over (the handler or a filter threw, the response could
    /// not be written, the client left): release what was prepared for it.
    virtual void on_abandoned() noexcept {}

protected:
    ~takeover() = default;
};

/// Hears a hijacked connection's events on the loop, once installed with connection::own.
/// Every call is on the loop (never on a fiber) and must not throw.
class stream_owner {
public:
    /// New bytes are in connection::hijacked_input().
    virtual void on_input(connection& c) noexcept = 0;
    /// The peer closed (UV_EOF) or reset the connection; `status` is the libuv error.
    virtual void on_peer_gone(connection& c, int status) noexcept = 0;
    /// The connection waited in the list of `kind` (connection::wait) for its whole timeout.
    virtual void on_timeout(connection& c, wait_kind kind) noexcept = 0;
    /// The worker began draining (reload, shutdown): finish soon. The server's shutdown
    /// deadline closes whatever is still open then.
    virtual void on_drain(connection& c) noexcept = 0;
    /// The connection is closed and its memory goes back to the pool: the last call, after
    /// libuv has completed (cancelled) every write queued on connection::stream().
    virtual void on_closed(connection& c) noexcept = 0;

protected:
    ~stream_owner() = default;
};

/// Takes the connection of `ctx` over with `t` once the handler's response is written (any
/// final status; 101 Switching Protocols sends `Connection: Upgrade`). Call from the handler.
/// `t` must live until on_hijacked or on_abandoned is called. A later call replaces `t`, which
/// then gets on_abandoned.
void hijack(http::request_ctx& ctx, takeover& t) noexcept;

/// A hijacked connection as a byte stream for code running on one fiber. Reads and writes
/// suspend that fiber (never the loop); read_timeout applies to reads, write_timeout to writes.
class byte_stream final : public stream_owner {
public:
    /// Result of read and write: bytes moved, or an error.
    struct result {
        std::size_t bytes = 0;
        int error = 0;  // 0, UV_EOF (peer closed), UV_ETIMEDOUT, UV_ECANCELED (draining), or a libuv error
    };

    explicit byte_stream(connection& c) noexcept;
    byte_stream(const byte_stream&) = delete;
    byte_stream& operator=(const byte_stream&) = delete;

    /// Copies up to `cap` bytes into `buf`, waiting for at least one. EOF is `error == UV_EOF`;
    /// once the worker drains, a read that would wait returns UV_ECANCELED instead.
    result read(char* buf, std::size_t cap) noexcept;
    /// Writes all of `data`, suspending while the socket is full.
    result write(std::string_view data) noexcept;
    /// True once the worker drains: finish up (the shutdown deadline closes the stream).
    [[nodiscard]] bool is_draining() const noexcept { return draining_; }
    /// True once the connection is closed (it must not be touched any more).
    [[nodiscard]] bool closed() const noexcept { return closed_; }

    void on_input(connection& c) noexcept override;
    void on_peer_gone(connection& c, int status) noexcept override;
    void on_timeout(connection& c, wait_kind kind) noexcept override;
    void on_drain(connection& c) noexcept override;
    void on_closed(connection& c) noexcept override;

private:
    static void on_write_done(uv_write_t* req, int status) noexcept;
    void wake() noexcept;

    connection& c_;
    class fiber* fiber_;  // the fiber that created the stream and runs on it
    uv_write_t write_req_{};
    int write_status_ = 0;
    int eof_ = 0;  // UV_EOF or the error once the peer is gone
    bool waiting_ = false;
    bool write_queued_ = false;
    bool timed_out_ = false;
    bool draining_ = false;
    bool closed_ = false;
};

/// A takeover that runs `serve` on the request's fiber with a byte_stream, then closes the
/// connection gracefully. Subclass it; one object may serve many connections at once.
class stream_takeover : public takeover {
public:
    /// Runs on the fiber; read and write suspend it. May throw (logged; the connection closes).
    virtual void serve(byte_stream& s) = 0;
    void on_hijacked(connection& c) final;

protected:
    ~stream_takeover() = default;
};

}  // namespace fastfork::worker
