#pragma once
// Harness of the runtime's loopback tests (worker_tests): a worker::server on its own thread
// behind a 127.0.0.1 listener, stopped through a uv_async_t on its loop; a blocking client whose
// every wait has a deadline scaled by FF_TEST_TIMEOUT_MULTIPLIER; a response splitter.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "shm/counters.hpp"
#include "worker/extension.hpp"
#include "worker/listener.hpp"
#include "worker/server.hpp"

namespace ff_test {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// FF_TEST_TIMEOUT_MULTIPLIER (at least 1): sanitizer builds run slower.
inline double timeout_multiplier() {
    const char* s = std::getenv("FF_TEST_TIMEOUT_MULTIPLIER");
    const double m = s ? std::atof(s) : 1.0;
    return m >= 1.0 ? m : 1.0;
}

/// A test deadline (not a server timeout under test), scaled for slow builds.
inline milliseconds scaled(milliseconds d) {
    return milliseconds(static_cast<long long>(static_cast<double>(d.count()) * timeout_multiplier()));
}

inline long long elapsed_ms(clock::time_point since) {
    return std::chrono::duration_cast<milliseconds>(clock::now() - since).count();
}

/// Polls `pred` every few milliseconds until it holds or `deadline` passes.
inline bool eventually(const std::function<bool()>& pred, milliseconds deadline) {
    const auto end = clock::now() + scaled(deadline);
    while (!pred()) {
        if (clock::now() >= end) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

/// Echoes "METHOD target body"; /throw throws, /slow sleeps 50 ms on its fiber first.
inline void echo_handler(fastfork::http::request_ctx& ctx) {
    if (ctx.path() == "/throw") throw std::runtime_error("test handler throws");
    if (ctx.path() == "/slow") ctx.sleep(50ms);
    std::string body(ctx.method_name());
    body += ' ';
    body += ctx.target();
    body += ' ';
    body += ctx.body();
    ctx.set_body(body);
}

/// A worker::server on its own thread. Set the public fields, then start(); stop() (or the
/// destructor) stops the loop and joins. `counters` is the server's stats slot: relaxed atomics,
/// readable from the test thread while it runs.
class server_thread {
public:
    fastfork::worker::options opts;
    fastfork::worker::handler handler = echo_handler;
    fastfork::worker::continue_hook continue_hook;
    std::vector<fastfork::worker::response_filter*> filters;
    std::vector<fastfork::worker::request_observer*> observers;
    fastfork::shm::worker_counters counters{};
    std::atomic<int> handler_calls{0};
    std::uint16_t port = 0;

    server_thread() = default;
    server_thread(const server_thread&) = delete;
    server_thread& operator=(const server_thread&) = delete;
    ~server_thread() { stop(); }

    void start() {
        fastfork::worker::listen_address a;
        std::string err;
        BOOST_REQUIRE(fastfork::worker::try_parse_listen_address("127.0.0.1:0", a, err));
        const int fd = fastfork::worker::open_listen_socket(a, 128);
        BOOST_REQUIRE(fd >= 0);
        port = fastfork::worker::local_port(fd);
        thread_ = std::thread([this, fd] { run(fd); });
        std::unique_lock lock(mutex_);
        BOOST_REQUIRE(cv_.wait_for(lock, scaled(5000ms), [this] { return ready_; }));
    }

    void stop() {
        if (!thread_.joinable()) return;
        bool running;
        {
            std::lock_guard lock(mutex_);
            running = ready_;
        }
        if (running) uv_async_send(&stop_);  // else run() failed and the thread has ended
        thread_.join();
    }

private:
    void run(int fd) {
        uv_async_t* stop = &stop_;
        fastfork::worker::server srv(
            opts,
            [this](fastfork::http::request_ctx& ctx) {
                ++handler_calls;
                handler(ctx);
            },
            &counters);
        if (continue_hook) srv.set_continue_hook(continue_hook);
        for (auto* f : filters) srv.add_response_filter(*f);
        for (auto* o : observers) srv.add_request_observer(*o);
        srv.add_listener(fd);
        // Closed by the server's destructor with every other handle still open on its loop.
        uv_async_init(srv.loop(), stop, [](uv_async_t* h) { static_cast<fastfork::worker::server*>(h->data)->quit(); });
        stop->data = &srv;
        srv.set_ready_hook([this] {
            std::lock_guard lock(mutex_);
            ready_ = true;
            cv_.notify_all();
        });
        srv.run(true);
    }

    std::thread thread_;
    uv_async_t stop_{};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool ready_ = false;
};

/// A blocking socket connected to 127.0.0.1:`port`, TCP_NODELAY (requests go out at once);
/// `rcvbuf` > 0: SO_RCVBUF before connecting, for a window that fills quickly.
inline int connect_loopback(std::uint16_t port, int rcvbuf = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE_EQUAL(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/// A blocking loopback client; every read waits at most its (scaled) deadline.
class client {
public:
    std::string data;  // everything received so far
    bool eof = false;  // the server's FIN arrived
    int error = 0;     // errno of a failed recv (ECONNRESET)
    int reads = 0;     // recv calls that returned data

    /// `rcvbuf` > 0: SO_RCVBUF before connecting, for a window that fills quickly.
    explicit client(std::uint16_t port, int rcvbuf = 0) : fd_(connect_loopback(port, rcvbuf)) {}
    ~client() { close(); }
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    void send(std::string_view bytes) {
        BOOST_REQUIRE_EQUAL(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    void shutdown_write() { BOOST_REQUIRE_EQUAL(::shutdown(fd_, SHUT_WR), 0); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    /// Reads until `done(data)` holds, EOF, an error or the deadline; returns done(data).
    bool read_until(const std::function<bool(const std::string&)>& done, milliseconds deadline) {
        const auto end = clock::now() + scaled(deadline);
        while (!done(data) && !eof && error == 0) {
            const auto left = std::chrono::duration_cast<milliseconds>(end - clock::now()).count();
            if (left <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
            char buf[65536];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) {
                data.append(buf, static_cast<std::size_t>(n));
                ++reads;
            } else if (n == 0) {
                eof = true;
            } else if (errno != EINTR && errno != EAGAIN) {
                error = errno;
            }
        }
        return done(data);
    }
    bool read_until_contains(std::string_view needle, milliseconds deadline) {
        return read_until([needle](const std::string& d) { return d.find(needle) != std::string::npos; }, deadline);
    }
    /// Reads until the server's FIN (or a reset, or the deadline); true on FIN.
    bool read_to_eof(milliseconds deadline) {
        read_until([](const std::string&) { return false; }, deadline);
        return eof;
    }

private:
    int fd_ = -1;
};

struct response {
    unsigned status = 0;
    std::string head;  // status line and header fields
    std::string body;
};

/// Splits the complete responses at the front of `data` (Content-Length framing; 1xx and
/// 204/304 have no body). An incomplete last response is left out.
inline std::vector<response> split_responses(std::string_view data) {
    std::vector<response> out;
    for (;;) {
        const auto end = data.find("\r\n\r\n");
        if (end == std::string_view::npos || data.size() < 12) return out;
        response r;
        r.head = std::string(data.substr(0, end + 2));
        r.status = static_cast<unsigned>(std::atoi(r.head.c_str() + 9));
        std::size_t length = 0;
        if (const auto cl = r.head.find("Content-Length: "); cl != std::string::npos)
            length = static_cast<std::size_t>(std::atoll(r.head.c_str() + cl + 16));
        if (r.status < 200 || r.status == 204 || r.status == 304) length = 0;
        if (data.size() < end + 4 + length) return out;
        r.body = std::string(data.substr(end + 4, length));
        out.push_back(std::move(r));
        data.remove_prefix(end + 4 + length);
    }
}

/// A predicate for client::read_until: at least `n` complete responses.
inline std::function<bool(const std::string&)> responses(std::size_t n) {
    return [n](const std::string& d) { return split_responses(d).size() >= n; };
}

inline std::uint64_t get(const fastfork::shm::counter& c) {
    return fastfork::shm::get(c);
}

}  // namespace ff_test
