// send_file_all on a real loop and fiber pool, over a loopback TCP pair with small socket
// buffers: the fiber waits for writability while the socket is full and completes when the
// reader drains; a write timeout or a peer reset ends it with an error, and its waiter (heap,
// closed asynchronously) outlives the fiber's frame safely (the ASan run checks that).
#include "worker/send_file.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

#include "loopback.hpp"

using namespace ff_test;
namespace worker = fastfork::worker;

namespace {

constexpr std::uint64_t file_size = 4 * 1024 * 1024;  // far more than both socket buffers

char pattern(std::uint64_t i) {
    return static_cast<char>((i * 7 + i / 4096) & 0xff);
}

struct send_fixture {
    uv_loop_t loop{};
    fastfork::shm::worker_counters counters{};
    worker::options opts;
    std::unique_ptr<worker::fiber_pool> pool;
    int file = -1;
    int sender = -1;  // the server's side: non-blocking, as an accepted connection
    int reader = -1;  // the client's side

    send_fixture() {
        std::signal(SIGPIPE, SIG_IGN);  // as server::run does: a reset peer must give EPIPE
        BOOST_REQUIRE_EQUAL(uv_loop_init(&loop), 0);
        pool = std::make_unique<worker::fiber_pool>(&loop, opts, counters);
        char path[] = "/tmp/ff-send-file-XXXXXX";
        file = ::mkstemp(path);
        BOOST_REQUIRE(file >= 0);
        ::unlink(path);
        std::string data(file_size, '\0');
        for (std::uint64_t i = 0; i < file_size; ++i) data[i] = pattern(i);
        BOOST_REQUIRE_EQUAL(::write(file, data.data(), data.size()), static_cast<ssize_t>(data.size()));
        connect_pair();
    }
    ~send_fixture() {
        pool.reset();
        uv_run(&loop, UV_RUN_DEFAULT);  // the fibers' close callbacks
        BOOST_CHECK_EQUAL(uv_loop_close(&loop), 0);
        for (int fd : {file, sender, reader})
            if (fd >= 0) ::close(fd);
    }

    void connect_pair() {
        worker::listen_address a;
        std::string err;
        BOOST_REQUIRE(worker::try_parse_listen_address("127.0.0.1:0", a, err));
        const int lfd = worker::open_listen_socket(a, 4);
        BOOST_REQUIRE(lfd >= 0);
        reader = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 16 * 1024;
        ::setsockopt(reader, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(worker::local_port(lfd));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE_EQUAL(::connect(reader, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
        pollfd p{lfd, POLLIN, 0};
        BOOST_REQUIRE_EQUAL(::poll(&p, 1, 5000), 1);
        sender = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        BOOST_REQUIRE(sender >= 0);
        ::setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        ::close(lfd);
    }
};

struct send_job {
    worker::fiber_pool* pool;
    int sock;
    int file;
    worker::millis timeout;
    worker::send_file_result result;
    bool done = false;

    static void run(void* arg) {
        auto* j = static_cast<send_job*>(arg);
        j->result =
            worker::send_file_all(*j->pool, *worker::fiber_pool::current(), j->sock, j->file, 0, file_size, j->timeout);
        j->done = true;
    }
};

// Drains the reader from the loop, starting after a delay so that the sender fills up first.
struct drainer {
    uv_timer_t delay{};
    uv_poll_t poll{};
    int fd;
    const send_job* job;
    bool job_done_at_start = true;
    std::uint64_t received = 0;
    std::uint64_t mismatches = 0;
    int timer_calls = 0;

    static void on_delay(uv_timer_t* t) {
        auto* d = static_cast<drainer*>(t->data);
        ++d->timer_calls;
        d->job_done_at_start = d->job->done;
        uv_close(reinterpret_cast<uv_handle_t*>(&d->delay), nullptr);
        uv_poll_start(&d->poll, UV_READABLE, on_readable);
    }
    static void on_readable(uv_poll_t* h, int status, int) {
        auto* d = static_cast<drainer*>(h->data);
        char buf[65536];
        ssize_t n = status < 0 ? -1 : ::recv(d->fd, buf, sizeof buf, MSG_DONTWAIT);
        for (ssize_t i = 0; i < n; ++i)
            if (buf[i] != pattern(d->received + static_cast<std::uint64_t>(i))) ++d->mismatches;
        if (n > 0) d->received += static_cast<std::uint64_t>(n);
        if (n == 0 || (n < 0 && errno != EAGAIN) || d->received == file_size)
            uv_close(reinterpret_cast<uv_handle_t*>(&d->poll), nullptr);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_send_file)

BOOST_FIXTURE_TEST_CASE(waits_on_a_full_socket_and_completes_when_the_reader_drains, send_fixture) {
    send_job job{pool.get(), sender, file, scaled(10'000ms)};
    drainer d;
    d.fd = reader;
    d.job = &job;
    uv_timer_init(&loop, &d.delay);
    uv_poll_init(&loop, &d.poll, reader);
    d.delay.data = d.poll.data = &d;
    uv_timer_start(&d.delay, drainer::on_delay, 100, 0);
    pool->start(pool->try_acquire(), send_job::run, &job);
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_TEST(d.timer_calls == 1);
    BOOST_TEST(!d.job_done_at_start);  // it was waiting on the full socket
    BOOST_REQUIRE(job.done);
    BOOST_TEST(job.result.error == 0);
    BOOST_TEST(job.result.sent == file_size);
    BOOST_TEST(d.received == file_size);
    BOOST_TEST(d.mismatches == 0u);
}

BOOST_FIXTURE_TEST_CASE(socket_that_never_drains_fails_with_etimedout, send_fixture) {
    send_job job{pool.get(), sender, file, 100ms};
    const std::uint64_t start = uv_now(&loop);
    pool->start(pool->try_acquire(), send_job::run, &job);
    uv_run(&loop, UV_RUN_DEFAULT);  // returns once the waiter's handles are closed
    BOOST_REQUIRE(job.done);
    BOOST_TEST(job.result.error == ETIMEDOUT);
    BOOST_TEST(job.result.sent > 0u);
    BOOST_TEST(job.result.sent < file_size);
    BOOST_TEST(uv_now(&loop) - start >= 100u);
}

BOOST_FIXTURE_TEST_CASE(peer_reset_while_waiting_fails_without_waiting_for_the_timeout, send_fixture) {
    send_job job{pool.get(), sender, file, scaled(10'000ms)};
    struct resetter {
        uv_timer_t timer{};
        int* fd;
        const send_job* job;
        bool job_done_at_reset = true;
    } r{{}, &reader, &job};
    uv_timer_init(&loop, &r.timer);
    r.timer.data = &r;
    uv_timer_start(
        &r.timer,
        [](uv_timer_t* t) {
            auto* self = static_cast<resetter*>(t->data);
            self->job_done_at_reset = self->job->done;
            linger zero{1, 0};  // close with RST
            ::setsockopt(*self->fd, SOL_SOCKET, SO_LINGER, &zero, sizeof zero);
            ::close(*self->fd);
            *self->fd = -1;
            uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
        },
        100, 0);
    const auto start = clock::now();
    pool->start(pool->try_acquire(), send_job::run, &job);
    uv_run(&loop, UV_RUN_DEFAULT);
    BOOST_TEST(!r.job_done_at_reset);
    BOOST_REQUIRE(job.done);
    BOOST_TEST_MESSAGE("send_file_all after a reset: " << std::strerror(job.result.error));
    // The peer's reset, not the poll handle's EBADF (libuv's code for EPOLLERR).
    BOOST_TEST((job.result.error == ECONNRESET || job.result.error == EPIPE));
    BOOST_TEST(job.result.sent < file_size);
    BOOST_TEST(elapsed_ms(start) < 5000);
}

// Through the connection: file bodies go out after their heads (and the answers batched before
// them); a reader that resets, or stops reading, ends the connection.
BOOST_FIXTURE_TEST_CASE(connection_sends_file_bodies_and_closes_on_a_reset_or_a_stalled_reader, send_fixture) {
    server_thread s;
    s.opts.write_timeout = 300ms;
    const int fd = file;
    s.handler = [fd](fastfork::http::request_ctx& ctx) { ctx.response().set_body_file(fd, 0, file_size); };
    s.start();
    {
        client c(s.port);
        c.send("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n");
        BOOST_REQUIRE(c.read_until(responses(2), 10'000ms));
        const auto rs = split_responses(c.data);
        BOOST_REQUIRE_EQUAL(rs[1].body.size(), file_size);
        std::uint64_t mismatches = 0;
        for (std::uint64_t i = 0; i < file_size; ++i) mismatches += rs[1].body[i] != pattern(i);
        BOOST_TEST(mismatches == 0u);
    }
    {
        client c(s.port);
        c.send("GET /reset HTTP/1.1\r\nHost: t\r\n\r\n");
        BOOST_REQUIRE(c.read_until([](const std::string& d) { return d.size() > 100'000; }, 5000ms));
        linger zero{1, 0};
        ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &zero, sizeof zero);
        c.close();
        BOOST_TEST(eventually([&] { return get(s.counters.connections_active) == 0; }, 5000ms));
    }
    {
        client c(s.port, 16 * 1024);
        c.send("GET /stall HTTP/1.1\r\nHost: t\r\n\r\n");  // and never read
        BOOST_REQUIRE(eventually([&] { return s.handler_calls == 4; }, 5000ms));
        BOOST_TEST(eventually([&] { return get(s.counters.connections_active) == 0; }, 5000ms));
        BOOST_TEST(get(s.counters.timeouts[static_cast<int>(fastfork::shm::timeout_kind::write)]) == 1u);
    }
    s.stop();
}

BOOST_AUTO_TEST_SUITE_END()
