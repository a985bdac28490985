#pragma once
// Listening sockets (worker; also used by the master to create them before fork): socket,
// CLOEXEC, SO_REUSEPORT, bind, listen, and an accept loop on a uv_poll_t that backs off on
// descriptor exhaustion instead of spinning (nginx disables accept events for a while).

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "shm/counters.hpp"

namespace fastfork::worker {

/// A listen address parsed from "host:port", "[v6]:port", ":port" or "port" (all IPv4 addresses).
struct listen_address {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;  // normalized "127.0.0.1:8080" / "[::1]:8080"
};

/// Parses `spec`; on failure returns false and sets `error` to a one-line reason.
[[nodiscard]] bool try_parse_listen_address(std::string_view spec, listen_address& out, std::string& error);

/// Creates a non-blocking, close-on-exec listening socket with SO_REUSEADDR and SO_REUSEPORT
/// (and IPV6_V6ONLY for IPv6) bound to `a`. Returns the fd, or -errno after logging the failing call.
[[nodiscard]] int open_listen_socket(const listen_address& a, int backlog);

/// The port a bound socket listens on (0 on error).
[[nodiscard]] std::uint16_t local_port(int fd) noexcept;

/// Accepts connections from one listening fd it does not own (the master keeps the socket open
/// across worker restarts; the worker only stops polling it).
class listener {
public:
    /// Called for every accepted connection: a non-blocking, close-on-exec fd the callee owns,
    /// and the peer's address (from accept4, so it costs no extra syscall).
    using accept_cb = void (*)(void* owner, int fd, const sockaddr_storage& peer) noexcept;

    listener(uv_loop_t* loop, int fd, accept_cb cb, void* owner, shm::worker_counters& counters) noexcept;
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;

    /// Starts polling for connections; returns a libuv error code (0 on success).
    [[nodiscard]] int start() noexcept;
    /// Stops accepting for good and closes the handles; `on_closed(owner)` runs once both are closed.
    void close(void (*on_closed)(listener*) noexcept) noexcept;

    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    static void on_readable(uv_poll_t* handle, int status, int events) noexcept;
    static void on_backoff_done(uv_timer_t* timer) noexcept;
    static void on_handle_closed(uv_handle_t* handle) noexcept;
    void accept_pending() noexcept;

    uv_poll_t poll_{};
    uv_timer_t backoff_{};
    int fd_;
    accept_cb cb_;
    void* owner_;
    shm::worker_counters& counters_;
    std::uint64_t last_error_log_ms_ = 0;
    int open_handles_ = 0;
    void (*on_closed_)(listener*) noexcept = nullptr;
};

}  // namespace fastfork::worker
