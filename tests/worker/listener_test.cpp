// The listener's accept loop on descriptor exhaustion, in a forked child whose RLIMIT_NOFILE is
// lowered so that accept4 fails with EMFILE: it must back off instead of spinning on the
// level-triggered poll, and accept the queued connection once a descriptor is free.
#include "worker/listener.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>

#include "child_process.hpp"

using namespace ff_test;
namespace worker = fastfork::worker;

namespace {

struct emfile_report {
    std::uint64_t errors_while_exhausted = 0;
    std::uint64_t accepted_while_exhausted = 0;
    std::uint64_t accepted = 0;
    std::uint64_t resumed_after_ms = 0;  // from the descriptor's release to the accept
    int setup_failed = 0;                // the line in the child that failed, 0 if none
};

struct emfile_child {
    uv_loop_t loop{};
    uv_timer_t release_timer{};
    uv_timer_t guard_timer{};
    fastfork::shm::worker_counters counters{};
    worker::listener* l = nullptr;
    int placeholder = -1;  // a descriptor held to be freed later
    std::uint64_t released_at = 0;
    emfile_report report;

    void finish() noexcept {
        uv_close(reinterpret_cast<uv_handle_t*>(&release_timer), nullptr);
        uv_close(reinterpret_cast<uv_handle_t*>(&guard_timer), nullptr);
        l->close([](worker::listener* self) noexcept { ::close(self->fd()); });
    }

    static void on_accept(void* owner, int fd, const sockaddr_storage&) noexcept {
        auto* c = static_cast<emfile_child*>(owner);
        ::close(fd);
        if (++c->report.accepted == 1 && c->released_at != 0) {
            c->report.resumed_after_ms = uv_now(&c->loop) - c->released_at;
            c->finish();
        }
    }

    int run(int report_fd) {
        // Set-up failures are reported with their line: no Boost.Test in the child.
        const auto failed = [&](int line) {
            report.setup_failed = line;
            return send(report_fd) ? 1 : 2;
        };
        if (uv_loop_init(&loop) != 0) return failed(__LINE__);
        worker::listen_address a;
        std::string err;
        if (!worker::try_parse_listen_address("127.0.0.1:0", a, err)) return failed(__LINE__);
        const int lfd = worker::open_listen_socket(a, 16);
        if (lfd < 0) return failed(__LINE__);
        worker::listener lst(&loop, lfd, on_accept, this, counters);
        l = &lst;
        // Queued in the kernel before the descriptors run out: connect needs no accept.
        const int cfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd < 0) return failed(__LINE__);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(worker::local_port(lfd));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(cfd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return failed(__LINE__);
        // Every descriptor below the lowest free one is in use: a soft limit there makes the
        // next accept4 fail with EMFILE, until `placeholder` (below it) is closed.
        placeholder = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
        const int lowest_free = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
        if (placeholder < 0 || lowest_free <= placeholder) return failed(__LINE__);
        ::close(lowest_free);
        rlimit lim{};
        if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return failed(__LINE__);
        lim.rlim_cur = static_cast<rlim_t>(lowest_free);
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return failed(__LINE__);
        if (::fcntl(0, F_DUPFD_CLOEXEC, 0) >= 0 || errno != EMFILE) return failed(__LINE__);

        uv_timer_init(&loop, &release_timer);
        uv_timer_init(&loop, &guard_timer);
        release_timer.data = guard_timer.data = this;
        // 450 ms exhausted: a spinning accept loop would fail thousands of times meanwhile.
        uv_timer_start(
            &release_timer,
            [](uv_timer_t* t) {
                auto* c = static_cast<emfile_child*>(t->data);
                c->report.errors_while_exhausted = fastfork::shm::get(c->counters.accept_errors);
                c->report.accepted_while_exhausted = c->report.accepted;
                ::close(c->placeholder);
                c->released_at = uv_now(&c->loop);
            },
            450, 0);
        uv_timer_start(
            &guard_timer, [](uv_timer_t* t) { static_cast<emfile_child*>(t->data)->finish(); },
            static_cast<std::uint64_t>(scaled(3000ms).count()), 0);
        if (lst.start() != 0) return failed(__LINE__);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0) return failed(__LINE__);
        ::close(cfd);
        return send(report_fd) ? 0 : 2;
    }

    bool send(int fd) const noexcept {
        return ::write(fd, &report, sizeof report) == static_cast<ssize_t>(sizeof report);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_listener)

BOOST_AUTO_TEST_CASE(emfile_backs_off_instead_of_spinning_and_resumes_when_a_descriptor_frees) {
    int p[2];
    BOOST_REQUIRE_EQUAL(::pipe2(p, O_CLOEXEC), 0);
    const int status = run_in_child([&] {
        ::close(p[0]);
        emfile_child child;
        return child.run(p[1]);
    });
    ::close(p[1]);
    emfile_report r;
    const ssize_t n = ::read(p[0], &r, sizeof r);
    ::close(p[0]);
    BOOST_REQUIRE_EQUAL(n, static_cast<ssize_t>(sizeof r));
    BOOST_REQUIRE_MESSAGE(r.setup_failed == 0, "child set-up failed at line " << r.setup_failed);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    // One attempt, then one per 100 ms back-off: about five in 450 ms.
    BOOST_TEST(r.errors_while_exhausted >= 1u);
    BOOST_TEST(r.errors_while_exhausted <= 10u);
    BOOST_TEST(r.accepted_while_exhausted == 0u);
    BOOST_TEST(r.accepted == 1u);
    BOOST_TEST(r.resumed_after_ms <= static_cast<std::uint64_t>(scaled(150ms).count()));  // next back-off
}

BOOST_AUTO_TEST_SUITE_END()
