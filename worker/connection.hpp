#pragma once
// One client connection (worker): owns the socket, the read buffer and the write path, parses
// heads on the loop, hands a request to a fiber from the pool while one is in progress, and
// closes with a half-close and a short linger so no RST eats the last response. The request
// loop that runs on the fiber (head → body → handler → response, pipelined) is in
// worker/request_loop.cpp.
//
// A fresh socket is a raw descriptor, not yet known to libuv: it is read once right after
// accept, and a request that is all there is answered with one write; a close-mode connection
// then ends with close(2) having cost accept4, read, write and close only. Only a connection
// that must wait (for input, for a partial write, for the linger, to stay alive) becomes a
// uv_tcp_t on the loop, which costs an ioctl and epoll_ctl(ADD), and epoll_ctl(DEL) at close.

#include <openssl/types.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "http/error.hpp"
#include "http/parser.hpp"
#include "http/request_ctx.hpp"
#include "shm/counters.hpp"
#include "worker/request_note.hpp"
#include "worker/timeout_list.hpp"
#include "worker/wait_kind.hpp"

namespace fastfork::worker {

class server;
class fiber;
class tls_transport;
struct exchange;
class takeover;
class stream_owner;

/// Derives from timeout_hook: its membership in one of the server's timeout lists.
class connection : public timeout_hook {
public:
    /// What the connection is doing; decides which timeout applies and who may close it.
    enum class phase : std::uint8_t {
        idle,     // keep-alive, no request bytes buffered: no fiber, no exchange, maybe no buffer
        head,     // request head incomplete: holds an exchange (parser), no fiber
        busy,     // a fiber runs the request loop: only that fiber may close the connection
        linger,   // FIN sent; discarding input until the peer's FIN or the linger timeout
        closing,  // uv_close called; memory returns to the pool in on_closed
        // Taken over after a response (worker/hijack.hpp): no HTTP; a stream_owner has it.
        hijacked,
    };

    /// What may happen to the read buffer's memory, given the views that point into it. Every
    /// place that moves or drops the buffer checks it (FF_INVARIANT), so a wrong order aborts
    /// instead of leaving a dangling view.
    enum class input_pin : std::uint8_t {
        none,        // no view into it: it may be compacted, grown or released
        head_views,  // a parsed head's views point into it: it may grow (the parser rebases) but not compact
        in_handler,  // a handler runs with views (and maybe its own copies of them): it must not move
    };

    /// Takes ownership of the accepted socket `fd` (non-blocking); no syscall. Then exactly one
    /// of start() or refuse().
    void open(server& srv, int fd, std::uint64_t id, const sockaddr_storage& peer) noexcept;
    /// Reads what has arrived and serves it; waits on the loop only for what has not. The
    /// connection may be closed (and back in the server's pool) when this returns.
    void start() noexcept;
    /// Between open() and start() for a TLS listener's connection: its bytes pass through a
    /// TLS record layer made from `ctx` (worker/tls_connection.cpp). False: out of memory.
    [[nodiscard]] bool use_tls(SSL_CTX* ctx) noexcept;

    /// Answers `status` at once and closes gracefully (admission refusals: 429, 503).
    void refuse(unsigned status) noexcept;

    /// Called by the sweep when the timeout of the list `kind` it waits in has passed.
    void on_timeout(wait_kind kind) noexcept;
    /// Close an idle connection now (drain); no-op in other phases.
    void close_if_idle() noexcept;
    /// At server teardown: closes the socket of an open connection that never became a handle
    /// (handles are closed with the loop). Its fiber, if any, is abandoned with the server.
    void close_unregistered_socket() noexcept;

    [[nodiscard]] phase state() const noexcept { return phase_; }

    // ---- hijacked phase (worker/hijack.cpp): the side a takeover and its stream_owner use ----
    /// Makes `o` hear this connection's loop events from now on (from takeover::on_hijacked, or
    /// later to replace the owner). `o` must live until its on_closed.
    void own(stream_owner& o) noexcept;
    void own_none() noexcept { owner_ = nullptr; }  // the owner goes away before the connection
    /// The bytes received and not yet consumed. Valid until the next consume_input, or until
    /// control returns to the loop (a read may grow the buffer).
    [[nodiscard]] std::string_view hijacked_input() const noexcept;
    /// Drops the first `n` bytes of hijacked_input(); an emptied buffer goes back to the pool.
    void consume_input(std::size_t n) noexcept;
    /// Stops reading (backpressure: the owner cannot take more now) / starts again.
    void pause_reading() noexcept;
    void resume_reading() noexcept;
    /// The registered libuv stream, for the owner's own uv_write / uv_try_write calls. Whatever
    /// it queues completes (UV_ECANCELED at the latest) before stream_owner::on_closed.
    [[nodiscard]] uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&tcp_); }
    /// Puts the connection in the server's timeout list of `kind` (restarting its clock), or
    /// out of every list. The owner hears on_timeout(kind) when it expires.
    void wait(wait_kind kind) noexcept;
    void stop_waiting() noexcept;
    /// Ends the hijack: graceful = half-close and linger (call once the owner's writes are
    /// done), else close at once. The owner still gets on_closed, last.
    void end_hijack(bool graceful) noexcept;
    /// The server drains: tells the owner (server.cpp).
    void on_server_drain() noexcept;
    [[nodiscard]] server& owning_server() noexcept { return *srv_; }
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    std::uint32_t hijacked_index = 0;  // position in the server's list of hijacked connections
    [[nodiscard]] std::uint64_t ip_key() const noexcept { return ip_key_; }

    bool counted_per_ip = false;  // holds one unit of the server's per-IP count

    /// Recovers the connection from its timeout hook.
    static connection* from_hook(timeout_hook* h) noexcept { return static_cast<connection*>(h); }

private:
    // ---- socket and loop side (connection.cpp) ----
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write_done(uv_write_t* req, int status) noexcept;
    static void on_closed(uv_handle_t* handle) noexcept;

    void alloc_input(uv_buf_t* buf) noexcept;
    bool grow_input(std::size_t min_free) noexcept;
    void on_input() noexcept;
    void on_peer_gone(int status) noexcept;
    /// Feeds the unprocessed input to the exchange's parser, the one place a head is parsed:
    /// done → head_size set, latency started, views pinned; error → counted and answered
    /// (the caller closes).
    http::parser::state feed_head() noexcept;
    void parse_head() noexcept;  // on the loop: feed_head, then start a fiber or close
    void start_fiber() noexcept;
    void restart_reading() noexcept;
    /// Makes the raw socket a uv_tcp_t on the loop (once); false: libuv refused it.
    bool ensure_registered() noexcept;
    void release_closed() noexcept;  // the memory goes back to the pools and the server, last
    void set_nodelay() noexcept;
    void set_remote_on(http::request_ctx& ctx) const noexcept;
    bool flush() noexcept;  // writes out_; may suspend the fiber; false: failed
    void answer_error(unsigned status) noexcept;
    void send_error_and_close(unsigned status) noexcept;
    void flush_and_close() noexcept;
    void go_idle() noexcept;
    void close_gracefully() noexcept;
    void close_now() noexcept;
    void release_input_if_empty() noexcept;
    void release_request_state() noexcept;  // fiber, exchange and output buffer
    void count_parse_error(http::error err) noexcept;
    void notify_completed(unsigned status, std::uint64_t bytes) noexcept;
    void set_pin(input_pin p) noexcept { pin_ = p; }

    // ---- TLS (tls_connection.cpp), only when tls_ is set ----
    void tls_alloc(uv_buf_t* buf) noexcept;         // room for ciphertext to be read
    void tls_on_cipher(std::size_t n) noexcept;     // n ciphertext bytes read: handshake or decrypt
    bool tls_write_pending() noexcept;              // handshake flight / alert / ticket, on the loop
    bool tls_seal() noexcept;                       // out_ plaintext → out_ ciphertext
    void answer_plain_http_on_tls_port() noexcept;  // nginx's 400, in clear, then close
    bool tls_send_file(const http::response& resp) noexcept;
    void tls_close_notify() noexcept;
    void count_tls_failure(shm::tls_failure why) noexcept;
    void count_tls_established() noexcept;
    void tls_release() noexcept;

    // ---- the request loop, on the fiber (request_loop.cpp) ----
    enum class wait_result : std::uint8_t { ok, timeout, peer_gone };
    /// What serve_one decided about the connection after a response.
    enum class next_step : std::uint8_t { more, closed };
    /// The response is written: hand the connection to `t` (worker/hijack.cpp).
    next_step hand_over(takeover& t);  // lets only forced_unwind escape
    void abandon_takeover() noexcept;  // the response failed: a pending takeover is told
    void release_hijack() noexcept;    // at close: the owner's on_closed, out of the server's list
    static void serve_entry(void* self);
    void serve();  // lets only Boost.Context's forced_unwind escape
    next_step serve_one();
    bool answer_continue(const http::request& req) noexcept;  // false: refused or failed (closed)
    /// The server's continue hook's status for `req` (100: go on); 500 when the hook throws.
    unsigned continue_hook_verdict(const http::request& req) noexcept;
    bool read_body(std::string_view& body, std::size_t& consumed_in_place) noexcept;
    bool run_handler(const http::request& req);  // false: the handler or a filter threw
    bool keeps_alive(const http::request& req) const noexcept;
    next_step finish_connection(const http::request& req) noexcept;
    bool send_file_body(const http::response& resp) noexcept;  // after its head; false: closed
    void end_batch() noexcept;  // nothing complete is buffered: write the batch, give the fiber back
    wait_result wait_input() noexcept;
    void erase_input(std::size_t at, std::size_t n) noexcept;
    void mark_head_done() noexcept;  // latency starts: the request head is parsed
    void record_latency() noexcept;  // latency ends: the response is serialized
    // ---- streamed bodies and responses (response_stream.cpp, stream_io.cpp) ----
    friend class stream_io;
    /// The continue hook for a route that streams its body: refuses at once, or leaves the
    /// `100 Continue` to the handler's first read (`send_continue`). False: refused (closed).
    bool prepare_streamed_body(const http::request& req, bool& send_continue) noexcept;
    /// After the handler of a streamed response: its end, stats, and what becomes of the connection.
    next_step finish_stream(const http::request& req, bool handler_ok) noexcept;

    uv_tcp_t tcp_{};  // initialized only once registered_
    server* srv_ = nullptr;
    http::byte_buffer* in_ = nullptr;   // read buffer; bytes [rd_, size) are not yet processed
    http::byte_buffer* out_ = nullptr;  // responses not yet written
    exchange* ex_ = nullptr;            // the request in progress (head or busy phase)
    stream_owner* owner_ = nullptr;     // hijacked phase: who hears the loop events (may be unset yet)
    tls_transport* tls_ = nullptr;      // the record layer of a TLS listener's connection
    fiber* fiber_ = nullptr;            // set in busy phase
    std::size_t rd_ = 0;
    std::uint64_t id_ = 0;
    std::uint64_t requests_ = 0;
    std::uint64_t opened_ms_ = 0;  // uv_now at accept: the connection's age in the hang report
    request_note note_;            // the request whose handler runs, while it runs
    std::uint64_t ip_key_ = 0;
    int fd_ = -1;         // the socket; owned by tcp_ once registered_
    int peer_error_ = 0;  // UV_EOF or an error once the peer is gone
    phase phase_ = phase::idle;
    input_pin pin_ = input_pin::none;
    bool registered_ = false;     // tcp_ is open on the loop: closing goes through uv_close
    bool reading_ = false;        // uv_read_start is in effect
    bool waiting_input_ = false;  // the fiber is suspended in wait_input
    bool waiting_write_ = false;  // the fiber is suspended until on_write_done
    bool write_queued_ = false;   // a uv_write_t in ex_ references out_: neither may be released
    bool timed_out_ = false;      // set by the sweep before resuming a waiting fiber
    bool nodelay_ = false;        // TCP_NODELAY is set
    int write_status_ = 0;
    std::uint16_t peer_port_ = 0;
    std::uint8_t peer_family_ = 0;
    std::uint8_t peer_addr_[16] = {};
};

/// Formats an IPv4 or IPv6 address (network order bytes) as text into `out`; returns its length
/// (0 when it does not fit). IPv4 by hand: glibc's inet_ntop formats it through sprintf.
std::size_t format_address(int family, const std::uint8_t* addr, char* out, std::size_t cap) noexcept;

}  // namespace fastfork::worker
