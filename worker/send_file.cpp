#include "worker/send_file.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "worker/log.hpp"

namespace fastfork::worker {

namespace {

// One sendfile(2) call moves at most this much: Linux caps a call at 0x7ffff000 bytes anyway,
// and a bounded call keeps off_t arithmetic far from overflow.
constexpr std::uint64_t max_chunk = std::uint64_t{1} << 30;

// Runs on a pool thread: sends until done, the socket would block, or an error.
struct sendfile_job {
    int sock;
    int file;
    off_t offset;
    std::uint64_t remaining;
    std::uint64_t sent = 0;
    int error = 0;
    bool would_block = false;

    static void run(void* arg) noexcept {
        auto& j = *static_cast<sendfile_job*>(arg);
        j.would_block = false;
        while (j.remaining > 0) {
            const std::size_t chunk = static_cast<std::size_t>(j.remaining < max_chunk ? j.remaining : max_chunk);
            const ssize_t n = ::sendfile(j.sock, j.file, &j.offset, chunk);
            if (n > 0) {
                j.remaining -= static_cast<std::uint64_t>(n);
                j.sent += static_cast<std::uint64_t>(n);
                continue;
            }
            if (n == 0) {  // end of file before `length`: the file shrank since its fstat
                j.error = EIO;
                return;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                j.would_block = true;
                return;
            }
            j.error = errno;
            return;
        }
    }
};

// Waits on the loop until the socket is writable. Heap-allocated: its handles must outlive the
// fiber's frame until their close callbacks, which free it.
struct writable_wait {
    uv_poll_t poll{};
    uv_timer_t timer{};
    fiber_pool* pool = nullptr;
    fiber* waiting = nullptr;  // the suspended fiber, until a callback resumes it
    int dup_fd = -1;
    int status = 0;
    int open_handles = 0;

    static void on_writable(uv_poll_t* h, int status, int /*events*/) noexcept {
        auto* w = static_cast<writable_wait*>(h->data);
        FF_ASSERT(w);
        w->wake(status);
    }
    static void on_timeout(uv_timer_t* t) noexcept {
        auto* w = static_cast<writable_wait*>(t->data);
        FF_ASSERT(w);
        w->wake(UV_ETIMEDOUT);
    }
    static void on_closed(uv_handle_t* h) noexcept {
        auto* w = static_cast<writable_wait*>(h->data);
        FF_ASSERT(w);
        if (--w->open_handles > 0) return;
        if (w->dup_fd >= 0) ::close(w->dup_fd);
        delete w;
    }

    void wake(int st) noexcept {
        if (!waiting) return;
        uv_poll_stop(&poll);
        uv_timer_stop(&timer);
        status = st;
        fiber* f = waiting;
        waiting = nullptr;
        pool->resume(f);
    }

    void close() noexcept {
        uv_close(reinterpret_cast<uv_handle_t*>(&poll), on_closed);
        uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_closed);
    }
};

// 0 when writable, else a negative libuv status. No UV_DISCONNECT: a client that half-closes
// after its request is still reading, and EPOLLRDHUP is level-triggered (it would wake us in a
// loop); a reset socket reports EPOLLERR/EPOLLHUP, and sendfile then fails with EPIPE.
int wait_writable(writable_wait& w, fiber& f, millis timeout) noexcept {
    w.status = 0;
    if (int rc = uv_poll_start(&w.poll, UV_WRITABLE, writable_wait::on_writable); rc != 0) return rc;
    uv_timer_start(&w.timer, writable_wait::on_timeout, static_cast<std::uint64_t>(timeout.count()), 0);
    w.waiting = &f;
    f.suspend();
    return w.status;
}

// libuv reports EPOLLERR on a poll handle as UV_EBADF, which would hide why the wait failed:
// after a reset, the socket's pending error (ECONNRESET) says that the peer is gone.
int poll_error(int sock_fd, int status) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(sock_fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) return err;
    return -status;
}

writable_wait* make_waiter(fiber_pool& pool, int sock_fd) noexcept {
    auto* w = new (std::nothrow) writable_wait();
    if (!w) return nullptr;
    w->dup_fd = ::fcntl(sock_fd, F_DUPFD_CLOEXEC, 0);
    if (w->dup_fd < 0) {
        FF_LOG_ERROR("fcntl(%d, F_DUPFD_CLOEXEC) failed: %s", sock_fd, std::strerror(errno));
        delete w;
        return nullptr;
    }
    w->pool = &pool;
    if (int rc = uv_poll_init(pool.loop(), &w->poll, w->dup_fd); rc != 0) {
        FF_LOG_ERROR("uv_poll_init(fd %d) failed: %s", w->dup_fd, uv_strerror(rc));
        ::close(w->dup_fd);
        delete w;
        return nullptr;
    }
    uv_timer_init(pool.loop(), &w->timer);
    w->poll.data = w;
    w->timer.data = w;
    w->open_handles = 2;
    return w;
}

}  // namespace

send_file_result send_file_all(fiber_pool& pool,
                               fiber& f,
                               int sock_fd,
                               int file_fd,
                               std::uint64_t offset,
                               std::uint64_t length,
                               millis timeout) noexcept {
    sendfile_job job{sock_fd, file_fd, static_cast<off_t>(offset), length};
    writable_wait* waiter = nullptr;  // made at the first full send buffer, reused after that
    for (;;) {
        f.run_blocking(&sendfile_job::run, &job);
        if (job.error != 0 || job.remaining == 0) break;
        if (!waiter && !(waiter = make_waiter(pool, sock_fd))) {
            job.error = ENOMEM;
            break;
        }
        if (int rc = wait_writable(*waiter, f, timeout); rc != 0) {
            job.error = rc == UV_ETIMEDOUT ? ETIMEDOUT : poll_error(sock_fd, rc);
            break;
        }
    }
    if (waiter) waiter->close();
    return {job.sent, job.error};
}

}  // namespace fastfork::worker
