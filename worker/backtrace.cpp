#include "worker/backtrace.hpp"

#include <execinfo.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "shm/clock.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"

namespace fastfork::worker {

namespace {

constexpr int max_frames = 64;
constexpr std::size_t max_target_shown = 512;

/// A fixed buffer filled with async-signal-safe appends only (no snprintf: it may allocate and
/// is not on POSIX's list).
struct line_buffer {
    char data[1024];
    std::size_t len = 0;

    void add(const char* s, std::size_t n) noexcept {
        for (std::size_t i = 0; i < n && len < sizeof data - 1; ++i) {
            const unsigned char c = static_cast<unsigned char>(s[i]);
            data[len++] = c < 0x20 || c == 0x7f ? '?' : s[i];  // a target never breaks the line
        }
    }
    void add(const char* s) noexcept { add(s, std::strlen(s)); }
    void add_number(std::uint64_t v, unsigned width = 0) noexcept {
        char digits[24];
        unsigned n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n < width) digits[n++] = '0';
        while (n > 0 && len < sizeof data - 1) data[len++] = digits[--n];
    }
    void write_to(int fd) noexcept {
        data[len++] = '\n';
        for (std::size_t off = 0; off < len;) {
            ssize_t n = ::write(fd, data + off, len - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        len = 0;
    }
};

// The log's line prefix, "2026-12-03T12:00:00Z [alert] worker 1 4242: ", built without gmtime_r
// (not async-signal-safe): days since the epoch to a civil date (Howard Hinnant's algorithm).
void add_prefix(line_buffer& b) noexcept {
    const std::int64_t secs = shm::realtime_s();  // clock_gettime: async-signal-safe
    std::int64_t z = secs / 86400 + 719468;
    const std::int64_t sod = secs % 86400;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    b.add_number(static_cast<std::uint64_t>(year), 4);
    b.add("-");
    b.add_number(static_cast<std::uint64_t>(month), 2);
    b.add("-");
    b.add_number(static_cast<std::uint64_t>(day), 2);
    b.add("T");
    b.add_number(static_cast<std::uint64_t>(sod / 3600), 2);
    b.add(":");
    b.add_number(static_cast<std::uint64_t>(sod / 60 % 60), 2);
    b.add(":");
    b.add_number(static_cast<std::uint64_t>(sod % 60), 2);
    b.add("Z [alert] ");
    b.add(log_tag());
    b.add(" ");
    b.add_number(static_cast<std::uint64_t>(::getpid()));
    b.add(": ");
}

void on_backtrace_signal(int sig) noexcept {
    const int saved_errno = errno;
    // A process-directed signal may land on one of libuv's thread-pool threads; the stuck fiber
    // runs on the loop thread (whose tid is the pid), so hand the signal over to it.
    if (static_cast<pid_t>(::syscall(SYS_gettid)) != ::getpid()) {
        ::syscall(SYS_tgkill, ::getpid(), ::getpid(), sig);
        errno = saved_errno;
        return;
    }
    const int fd = log_fd();
    line_buffer b;
    add_prefix(b);
    // The handler interrupted whatever ran on this thread: a fiber's task (the usual case, a
    // handler that never yields) or the loop itself. Either way the frames below are its frames,
    // because the handler runs on the interrupted stack.
    const fiber* f = fiber_pool::current();
    std::atomic_signal_fence(std::memory_order_acquire);
    const request_note* note = f ? f->note() : nullptr;
    if (note) {
        const std::uint64_t now = shm::monotonic_ms();
        b.add("hung in ");
        b.add(note->method, note->method_len);
        b.add(" ");
        b.add(note->target, note->target_len < max_target_shown ? note->target_len : max_target_shown);
        b.add(" (handler running ");
        b.add_number(now > note->handler_started_ms ? now - note->handler_started_ms : 0);
        b.add(" ms, connection open ");
        b.add_number(now > note->connection_opened_ms ? now - note->connection_opened_ms : 0);
        b.add(" ms); stack of the running fiber:");
    } else if (f) {
        b.add("hung in a fiber outside any handler; its stack:");
    } else {
        b.add("hung on the event loop, outside any request; its stack:");
    }
    b.write_to(fd);
    void* frames[max_frames];
    const int n = ::backtrace(frames, max_frames);
    // Skip our own frame: the stack the operator wants starts at the signal trampoline.
    ::backtrace_symbols_fd(frames + 1, n > 1 ? n - 1 : 0, fd);
    add_prefix(b);
    b.add("end of stack");
    b.write_to(fd);
    errno = saved_errno;
}

}  // namespace

int backtrace_signal() noexcept {
    return SIGRTMIN + 3;
}

void install_backtrace_handler() noexcept {
    void* warm[2];
    (void)::backtrace(warm, 2);  // loads libgcc_s now: dlopen inside a signal handler would not be safe
    struct sigaction sa {};
    sa.sa_handler = on_backtrace_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(backtrace_signal(), &sa, nullptr) != 0)
        FF_LOG_WARN("sigaction(SIGRTMIN+3) failed: %s; a hung worker is killed without a backtrace",
                    std::strerror(errno));
}

}  // namespace fastfork::worker
