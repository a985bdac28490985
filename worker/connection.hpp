#pragma once
// One client connection (worker): reads into a pooled buffer, parses heads on the loop, runs
// requests on a fiber from the pool while one is in progress, batches pipelined responses into
// one write, and closes with a half-close and a short linger so no RST eats the last response.

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "http/error.hpp"
#include "http/request_ctx.hpp"
#include "worker/timeout_list.hpp"

namespace fastfork::worker {

class server;
class fiber;
struct exchange;

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
    };

    /// Takes ownership of the accepted socket `fd`. Returns false (fd closed) when libuv refuses it.
    [[nodiscard]] bool open(server& srv, int fd, std::uint64_t id, const sockaddr_storage& peer) noexcept;

    /// Answers `status` at once and closes gracefully (admission refusals: 429, 503).
    void refuse(unsigned status) noexcept;

    /// Called by the sweep when the timeout of the list it waits in has passed.
    void on_timeout(timeout_list& which) noexcept;
    /// Close an idle connection now (drain); no-op in other phases.
    void close_if_idle() noexcept;

    [[nodiscard]] phase state() const noexcept { return phase_; }
    [[nodiscard]] std::uint64_t ip_key() const noexcept { return ip_key_; }

    bool counted_per_ip = false;  // holds one unit of the server's per-IP count
    connection* next_free = nullptr;

    /// Recovers the connection from its timeout hook.
    static connection* from_hook(timeout_hook* h) noexcept { return static_cast<connection*>(h); }

private:
    static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
    static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
    static void on_write_done(uv_write_t* req, int status) noexcept;
    static void on_closed(uv_handle_t* handle) noexcept;
    static void serve_entry(void* self);

    void alloc_input(uv_buf_t* buf) noexcept;
    void on_input() noexcept;
    void on_peer_gone(int status) noexcept;
    void parse_head() noexcept;
    void start_fiber() noexcept;
    void serve();      // lets only Boost.Context's forced_unwind escape
    bool serve_one();  // throws only bad_alloc; serve() catches
    enum class wait_result : std::uint8_t { ok, timeout, peer_gone };
    bool read_body(std::string_view& body, std::size_t& consumed_in_place) noexcept;
    wait_result wait_input() noexcept;
    void erase_input(std::size_t at, std::size_t n) noexcept;
    void set_remote_on(http::request_ctx& ctx) const noexcept;
    static std::size_t format_peer(const void* self, char* out, std::size_t cap) noexcept;
    bool flush() noexcept;
    bool send_file_body(const http::response& resp) noexcept;  // after its head; false: closed
    void answer_error(unsigned status) noexcept;
    void log_access(unsigned status, std::uint64_t bytes) noexcept;  // one access-log line (log on)
    void send_error_and_close(unsigned status) noexcept;
    void flush_and_close() noexcept;
    void go_idle() noexcept;
    void close_gracefully() noexcept;
    void close_now() noexcept;
    void release_input_if_empty() noexcept;
    void release_request_state() noexcept;  // fiber, exchange and output buffer
    void restart_reading() noexcept;
    void set_nodelay() noexcept;
    void count_response(unsigned status) noexcept;
    void count_parse_error(http::error err) noexcept;
    void mark_head_done() noexcept;  // latency starts: the request head is parsed
    void record_latency() noexcept;  // latency ends: the response is serialized
    bool grow_input(std::size_t min_free) noexcept;

    uv_tcp_t tcp_{};
    server* srv_ = nullptr;
    http::byte_buffer* in_ = nullptr;   // read buffer; bytes [rd_, size) are not yet processed
    http::byte_buffer* out_ = nullptr;  // responses not yet written
    exchange* ex_ = nullptr;            // the request in progress (head or busy phase)
    fiber* fiber_ = nullptr;            // set in busy phase
    std::size_t rd_ = 0;
    std::uint64_t id_ = 0;
    std::uint64_t requests_ = 0;
    std::uint64_t ip_key_ = 0;
    int peer_error_ = 0;  // UV_EOF or an error once the peer is gone
    phase phase_ = phase::idle;
    bool reading_ = false;        // uv_read_start is in effect
    bool waiting_input_ = false;  // the fiber is suspended in wait_input
    bool waiting_write_ = false;  // the fiber is suspended until on_write_done
    bool in_handler_ = false;     // request views are live: the read buffer must not move
    bool views_live_ = false;     // a parsed head's views point into the buffer: it may grow (with
                                  // rebase) but not be compacted
    bool reading_body_ = false;   // the fiber waits for body bytes
    bool timed_out_ = false;      // set by the sweep before resuming a waiting fiber
    bool nodelay_ = false;        // TCP_NODELAY is set
    int write_status_ = 0;
    std::uint16_t peer_port_ = 0;
    std::uint8_t peer_family_ = 0;
    std::uint8_t peer_addr_[16] = {};
};

}  // namespace fastfork::worker
