// Proves that a steady-state keep-alive request allocates nothing, through the real socket path:
// a worker::server on a loopback port, a blocking client, and counting malloc/operator new hooks
// that only count on the server's thread.
#include "worker/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <thread>

#include "handlers/features.hpp"
#include "handlers/router.hpp"
#include "tests/worker/loopback.hpp"
#include "worker/listener.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<unsigned long> g_allocations{0};
thread_local bool t_is_server = false;

inline void note_allocation() noexcept {
    if (t_is_server && g_counting.load(std::memory_order_relaxed))
        g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
// glibc exports its allocator under these names, so the hooks can forward to it.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void __libc_free(void*);
extern "C" void* malloc(std::size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
    note_allocation();
    return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
extern "C" void free(void* p) {
    __libc_free(p);
}
#define FF_COUNTS_MALLOC 1
#endif

void* operator new(std::size_t n) {
    note_allocation();
#ifdef FF_COUNTS_MALLOC
    void* p = __libc_malloc(n ? n : 1);
#else
    void* p = std::malloc(n ? n : 1);
#endif
    if (!p) throw std::bad_alloc();
    return p;
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using namespace fastfork;

// Sends `count` batches of `depth` pipelined requests and reads the responses back.
void exchange_requests(int fd, int count, int depth) {
    const std::string one = "GET /plaintext HTTP/1.1\r\nHost: t\r\nUser-Agent: alloc-test\r\n\r\n";
    std::string batch;
    for (int i = 0; i < depth; ++i) batch += one;
    char buf[65536];
    for (int i = 0; i < count; ++i) {
        BOOST_REQUIRE_EQUAL(::send(fd, batch.data(), batch.size(), 0), static_cast<ssize_t>(batch.size()));
        int seen = 0;
        std::string got;
        while (seen < depth) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            BOOST_REQUIRE(n > 0);
            got.append(buf, static_cast<std::size_t>(n));
            std::size_t pos = 0;
            seen = 0;
            while ((pos = got.find("Hello, World!", pos)) != std::string::npos) {
                ++seen;
                pos += 13;
            }
        }
    }
}

// Sends `count` batches of `depth` pipelined GETs of `path` with Accept-Encoding: gzip and reads
// the responses back by their Content-Length; each must be gzipped.
void exchange_gzip_file_requests(int fd, int count, int depth, const std::string& path) {
    const std::string one = "GET " + path + " HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\n\r\n";
    std::string batch;
    for (int i = 0; i < depth; ++i) batch += one;
    char buf[65536];
    std::string got;
    for (int i = 0; i < count; ++i) {
        BOOST_REQUIRE_EQUAL(::send(fd, batch.data(), batch.size(), 0), static_cast<ssize_t>(batch.size()));
        int seen = 0;
        while (seen < depth) {
            const std::size_t head_end = got.find("\r\n\r\n");
            const std::size_t length_at = got.find("Content-Length: ");
            if (head_end != std::string::npos && length_at < head_end) {
                const std::size_t total = head_end + 4 + std::strtoul(got.c_str() + length_at + 16, nullptr, 10);
                if (got.size() >= total) {
                    BOOST_REQUIRE_MESSAGE(got.compare(0, 15, "HTTP/1.1 200 OK") == 0, got.substr(0, head_end));
                    BOOST_REQUIRE(std::string_view(got).substr(0, head_end).find("Content-Encoding: gzip") !=
                                  std::string_view::npos);
                    got.erase(0, total);
                    ++seen;
                    continue;
                }
            }
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            BOOST_REQUIRE(n > 0);
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
}

struct running_server {
    std::thread thread;
    std::uint16_t port = 0;

    running_server() : running_server(handlers::options{}) {}

    // The `fastfork` binary's set-up: the default route table and the features of `fo`.
    explicit running_server(handlers::options fo) {
        // A root needs the binary's factories (file_server); without one the bare table suffices.
        worker::handler h = handlers::routed_handler(fo.root.empty() ? handlers::route_factories{}
                                                                     : handlers::standard_route_factories());
        worker::listen_address a;
        std::string err;
        BOOST_REQUIRE(worker::try_parse_listen_address("127.0.0.1:0", a, err));
        int fd = worker::open_listen_socket(a, 128);
        BOOST_REQUIRE(fd >= 0);
        port = worker::local_port(fd);
        std::atomic<bool> started{false};
        thread = std::thread([fd, &started, fo = std::move(fo), h = std::move(h)] {
            t_is_server = true;
            handlers::features features(fo, 0);
            worker::server srv(worker::options{}, h);
            features.attach(srv);
            srv.add_listener(fd);
            started = true;
            srv.run();
        });
        while (!started) std::this_thread::yield();
    }
    ~running_server() {
        ::kill(::getpid(), SIGQUIT);  // the server's uv_signal_t handler stops its loop
        thread.join();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(handlers_socket_alloc)

BOOST_AUTO_TEST_CASE(steady_state_keep_alive_request_allocates_nothing) {
    running_server srv;
    int a = ff_test::connect_loopback(srv.port);
    int b = ff_test::connect_loopback(srv.port);
    // The hooks must see the server's allocations at all: its first request fills the pools.
    g_allocations = 0;
    g_counting = true;
    exchange_requests(a, 1, 1);
    g_counting = false;
    BOOST_TEST_REQUIRE(g_allocations.load() > 0u, "the counting hooks saw no allocation during warm-up");
    exchange_requests(a, 2000, 1);  // warm-up: pools, buffers, date, fibers
    exchange_requests(b, 2000, 1);
    g_allocations = 0;
    g_counting = true;
    exchange_requests(a, 6000, 1);
    exchange_requests(b, 6000, 1);
    g_counting = false;
    BOOST_TEST(g_allocations.load() == 0u, "allocations over 12,000 keep-alive requests: " << g_allocations.load());
    ::close(a);
    ::close(b);
}

BOOST_AUTO_TEST_CASE(steady_state_pipelined_batch_allocates_nothing) {
    running_server srv;
    int a = ff_test::connect_loopback(srv.port);
    exchange_requests(a, 300, 16);
    g_allocations = 0;
    g_counting = true;
    exchange_requests(a, 700, 16);  // 11,200 requests
    g_counting = false;
    BOOST_TEST(g_allocations.load() == 0u, "allocations over 11,200 pipelined requests: " << g_allocations.load());
    ::close(a);
}

// The `fastfork` binary's set-up: the router (default table), gzip on, and the access log on in
// either format. Lines go to a buffer and a file; neither may allocate once warm.
BOOST_AUTO_TEST_CASE(steady_state_with_router_gzip_and_access_log_allocates_nothing) {
    char dir[] = "/tmp/ff-alloc-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(dir));
    for (auto format : {handlers::log_format::combined, handlers::log_format::json}) {
        const std::string log = std::string(dir) + "/access.log";
        {
            handlers::options o;
            o.access_log = log;
            o.access_log_format = format;
            running_server srv(o);
            int a = ff_test::connect_loopback(srv.port);
            exchange_requests(a, 3000, 1);  // warm-up, and at least one flush past the threshold
            exchange_requests(a, 100, 16);
            g_allocations = 0;
            g_counting = true;
            exchange_requests(a, 5000, 1);
            exchange_requests(a, 300, 16);
            g_counting = false;
            BOOST_TEST(g_allocations.load() == 0u, "allocations over 9,800 logged requests: " << g_allocations.load());
            ::close(a);
        }
        ::unlink(log.c_str());
    }
    ::rmdir(dir);
}

// Issue 10.7: a static file gzipped on the fly is compressed once; every later response is sent
// from the bytes kept in its cache entry, with no allocation.
BOOST_AUTO_TEST_CASE(steady_state_gzip_cached_static_file_allocates_nothing) {
    char dir[] = "/tmp/ff-alloc-gz-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(dir));
    const std::string file = std::string(dir) + "/page.css";
    {
        std::ofstream css(file, std::ios::binary);
        for (int i = 0; i < 300; ++i) css << ".rule" << i << " { margin: " << i % 17 << "px; }\n";
    }
    {
        handlers::options o;
        o.root = dir;
        o.open_file_cache_ttl = handlers::millis(600'000);  // no re-check of the disk while counting
        running_server srv(o);
        int a = ff_test::connect_loopback(srv.port);
        exchange_gzip_file_requests(a, 2000, 1, "/page.css");  // warm-up: the load, the one compression
        exchange_gzip_file_requests(a, 100, 16, "/page.css");
        g_allocations = 0;
        g_counting = true;
        exchange_gzip_file_requests(a, 5000, 1, "/page.css");
        exchange_gzip_file_requests(a, 300, 16, "/page.css");
        g_counting = false;
        BOOST_TEST(g_allocations.load() == 0u,
                   "allocations over 9,800 gzip static responses: " << g_allocations.load());
        ::close(a);
    }
    ::unlink(file.c_str());
    ::rmdir(dir);
}

// Issue 12: a small WebSocket echo (ws_echo, no compression) allocates nothing per message once
// warm: frames are read on the loop, the message wakes a pooled fiber, the echo is written from
// the message's own bytes.
void exchange_ws_messages(int fd, int count) {
    const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
    const std::string text = "hello, websocket";
    std::string frame;
    frame += static_cast<char>(0x81);
    frame += static_cast<char>(0x80 | text.size());
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < text.size(); ++i) frame += static_cast<char>(text[i] ^ mask[i % 4]);
    const std::size_t echo_size = 2 + text.size();
    char buf[256];
    for (int i = 0; i < count; ++i) {
        BOOST_REQUIRE_EQUAL(::send(fd, frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
        std::size_t got = 0;
        while (got < echo_size) {
            const ssize_t n = ::recv(fd, buf + got, sizeof buf - got, 0);
            BOOST_REQUIRE(n > 0);
            got += static_cast<std::size_t>(n);
        }
        BOOST_REQUIRE_EQUAL(got, echo_size);
        BOOST_REQUIRE(std::string_view(buf + 2, text.size()) == text);
    }
}

int open_websocket(std::uint16_t port) {
    int fd = ff_test::connect_loopback(port);
    const std::string hs =
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    BOOST_REQUIRE_EQUAL(::send(fd, hs.data(), hs.size(), 0), static_cast<ssize_t>(hs.size()));
    std::string got;
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        BOOST_REQUIRE(n > 0);
        got.append(buf, static_cast<std::size_t>(n));
    }
    BOOST_REQUIRE_MESSAGE(got.compare(0, 12, "HTTP/1.1 101") == 0, got);
    return fd;
}

BOOST_AUTO_TEST_CASE(steady_state_websocket_echo_allocates_nothing_per_message) {
    handlers::options o;
    o.routes = {handlers::route_spec{"/ws", "ws_echo", "", {}, {}}};
    running_server srv(o);
    int a = open_websocket(srv.port);
    int b = open_websocket(srv.port);
    exchange_ws_messages(a, 2000);  // warm-up: fibers, buffers
    exchange_ws_messages(b, 2000);
    g_allocations = 0;
    g_counting = true;
    exchange_ws_messages(a, 5000);
    exchange_ws_messages(b, 5000);
    g_counting = false;
    BOOST_TEST(g_allocations.load() == 0u, "allocations over 10,000 WebSocket echoes: " << g_allocations.load());
    ::close(a);
    ::close(b);
}

BOOST_AUTO_TEST_SUITE_END()
