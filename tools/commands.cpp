#include "tools/commands.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "shm/clock.hpp"
#include "shm/render.hpp"
#include "shm/segment.hpp"
#include "shm/snapshot.hpp"
#include "tools/instances.hpp"

namespace fastfork::tools {

namespace {

constexpr const char* clear_screen = "\x1b[H\x1b[2J";
constexpr double poll_s = 0.05;  // reload result and master exit

void fail(const char* what) {
    std::fprintf(stderr, "fastforkctl: %s\n", what);
}

// On failure sets `code`: exit_usage when --name is needed to choose, else exit_failure.
std::optional<shm::segment> open_instance(const std::string& requested, int& code) {
    choice c = choose_instance(requested);
    if (c.name.empty()) {
        fail(c.error.c_str());
        code = c.ambiguous ? exit_usage : exit_failure;
        return std::nullopt;
    }
    try {
        return shm::segment::open_readonly(c.name);
    } catch (const std::exception& e) {
        fail(e.what());
        code = exit_failure;
        return std::nullopt;
    }
}

// The master pid to signal, or 0 (after saying why) when the segment's pid is dead or is not
// provably a master of this segment: a forged or stale segment can name any process, and
// fastforkctl may run as root (issue 16.1).
long verified_master(const shm::segment& seg) {
    const auto pid = static_cast<long>(seg.get()->header.master_pid.load(std::memory_order_relaxed));
    if (!shm::is_process_alive(pid)) {
        std::fprintf(stderr, "fastforkctl: instance \"%s\" is stale: master %ld is not running\n", seg.name().c_str(),
                     pid);
        return 0;
    }
    std::string why;
    if (!seg.is_master(pid, why)) {
        std::fprintf(stderr, "fastforkctl: instance \"%s\": not signalling pid %ld: %s\n", seg.name().c_str(), pid,
                     why.c_str());
        return 0;
    }
    return pid;
}

void sleep_poll() {
    timespec ts{0, static_cast<long>(poll_s * 1e9)};
    ::nanosleep(&ts, nullptr);
}

double seconds_between(const shm::snapshot& a, const shm::snapshot& b) {
    return b.taken_mono_ns > a.taken_mono_ns ? static_cast<double>(b.taken_mono_ns - a.taken_mono_ns) / 1e9 : 0.0;
}

// Waits `seconds` unless SIGINT or SIGTERM arrives first (they are blocked and taken here
// synchronously, so there is no signal handler). Returns false when interrupted.
bool sleep_unless_signalled(double seconds, const sigset_t& stop_signals) {
    const std::uint64_t deadline = shm::monotonic_ns() + static_cast<std::uint64_t>(seconds * 1e9);
    for (;;) {
        const std::uint64_t now = shm::monotonic_ns();
        if (now >= deadline) return true;
        const std::uint64_t left = deadline - now;
        timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
        int sig = ::sigtimedwait(&stop_signals, nullptr, &ts);
        if (sig > 0) return false;
        if (errno == EAGAIN) return true;
        // EINTR: another signal (SIGWINCH, SIGCONT): keep waiting for the rest.
    }
}

std::string render(const shm::snapshot& s, const stats_options& opts, const shm::snapshot* prev, double interval) {
    switch (opts.format) {
        case stats_format::json:
            return shm::render_json(s);
        case stats_format::prometheus:
            return shm::render_prometheus(s);
        case stats_format::table:
            break;
    }
    return shm::render_table(s, prev, interval);
}

}  // namespace

int run_list() {
    std::vector<instance_info> all = list_instances();
    if (all.empty()) {
        std::printf("no fastfork instances (no /dev/shm/fastfork.* segment)\n");
        return exit_ok;
    }
    std::printf("%-24s %8s %-7s %7s\n", "NAME", "MASTER", "STATUS", "WORKERS");
    for (const auto& i : all) {
        if (!i.error.empty()) {
            std::printf("%-24s %8s %-7s %7s  %s\n", i.name.c_str(), "-", "unknown", "-", i.error.c_str());
            continue;
        }
        std::printf("%-24s %8ld %-7s %7u\n", i.name.c_str(), i.master_pid, i.alive ? "alive" : "stale", i.workers);
    }
    return exit_ok;
}

int run_stats(const std::string& name, const stats_options& opts) {
    int code = exit_ok;
    auto seg = open_instance(name, code);
    if (!seg) return code;
    const std::string& instance = seg->name();
    if (opts.watch_s <= 0) {
        std::string out = render(shm::take_snapshot(*seg->get(), instance), opts, nullptr, 0);
        std::fwrite(out.data(), 1, out.size(), stdout);
        return exit_ok;
    }

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    std::optional<shm::snapshot> prev;
    for (std::uint64_t n = 1;; ++n) {
        shm::snapshot now = shm::take_snapshot(*seg->get(), instance);
        const double interval = prev ? seconds_between(*prev, now) : 0.0;
        std::string out;
        if (tty && opts.format == stats_format::table) out = clear_screen;
        out += render(now, opts, prev ? &*prev : nullptr, interval);
        if (!tty && opts.format == stats_format::table) out += '\n';
        std::fwrite(out.data(), 1, out.size(), stdout);
        std::fflush(stdout);
        if (opts.count != 0 && n >= opts.count) break;
        prev = std::move(now);
        if (!sleep_unless_signalled(opts.watch_s, stop_signals)) break;
    }
    return exit_ok;
}

int run_status(const std::string& name) {
    int code = exit_ok;
    auto seg = open_instance(name, code);
    if (!seg) return code;
    shm::snapshot s = shm::take_snapshot(*seg->get(), seg->name());
    std::string out = shm::render_status(s);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return s.stale ? exit_failure : exit_ok;
}

namespace {

// SIGHUP (reload) or SIGUSR2 (upgrade), then the result the master records in the segment.
int signal_and_wait_result(const std::string& name, int sig, const char* what, double timeout_s) {
    int code = exit_ok;
    auto seg = open_instance(name, code);
    if (!seg) return code;
    const long pid = verified_master(*seg);
    if (pid == 0) return exit_failure;
    shm::snapshot before = shm::take_snapshot(*seg->get(), seg->name());
    if (::kill(static_cast<pid_t>(pid), sig) != 0) {
        std::fprintf(stderr, "fastforkctl: kill(%ld, SIG%s) failed: %s\n", pid, sigabbrev_np(sig),
                     std::strerror(errno));
        return exit_failure;
    }
    if (timeout_s <= 0) {
        std::printf("sent SIG%s to master %ld (%s); not waiting for the result (--timeout 0)\n", sigabbrev_np(sig), pid,
                    what);
        return exit_ok;
    }
    const std::uint64_t deadline = shm::monotonic_ns() + static_cast<std::uint64_t>(timeout_s * 1e9);
    for (;;) {
        shm::snapshot now = shm::take_snapshot(*seg->get(), seg->name());
        if (now.last_reload.count > before.last_reload.count) {
            const char* msg = now.last_reload.message.c_str();
            if (now.last_reload.ok == 1) {
                std::printf("%s #%llu ok%s%s\n", what, static_cast<unsigned long long>(now.last_reload.count),
                            *msg ? ": " : "", msg);
                return exit_ok;
            }
            std::fprintf(stderr, "fastforkctl: %s #%llu failed: %s\n", what,
                         static_cast<unsigned long long>(now.last_reload.count), msg);
            return exit_failure;
        }
        if (now.stale) {
            std::fprintf(stderr, "fastforkctl: master %ld exited before reporting the %s\n", pid, what);
            return exit_failure;
        }
        if (shm::monotonic_ns() >= deadline) {
            std::fprintf(stderr, "fastforkctl: no %s result from master %ld within %g s\n", what, pid, timeout_s);
            return exit_failure;
        }
        sleep_poll();
    }
}

}  // namespace

int run_reload(const std::string& name, double timeout_s) {
    return signal_and_wait_result(name, SIGHUP, "reload", timeout_s);
}

int run_upgrade(const std::string& name, double timeout_s) {
    return signal_and_wait_result(name, SIGUSR2, "upgrade", timeout_s);
}

int run_signal(const std::string& name, int sig, const char* what, double wait_s) {
    int code = exit_ok;
    auto seg = open_instance(name, code);
    if (!seg) return code;
    const long pid = verified_master(*seg);
    if (pid == 0) return exit_failure;
    if (::kill(static_cast<pid_t>(pid), sig) != 0) {
        std::fprintf(stderr, "fastforkctl: kill(%ld, SIG%s) failed: %s\n", pid, sigabbrev_np(sig),
                     std::strerror(errno));
        return exit_failure;
    }
    std::printf("sent SIG%s to master %ld (%s)\n", sigabbrev_np(sig), pid, what);
    if (wait_s <= 0) return exit_ok;
    std::fflush(stdout);
    // Gone means no longer a master of this segment: that covers an exited master, a zombie its
    // parent has not reaped yet, and a recycled pid, where kill(pid, 0) would say "alive".
    const std::uint64_t start = shm::monotonic_ns();
    const std::uint64_t deadline = start + static_cast<std::uint64_t>(wait_s * 1e9);
    std::string why;
    while (seg->is_master(pid, why)) {
        if (shm::monotonic_ns() >= deadline) {
            std::fprintf(stderr, "fastforkctl: master %ld has not exited within %g s (see shutdown_timeout)\n", pid,
                         wait_s);
            return exit_failure;
        }
        sleep_poll();
    }
    std::printf("master %ld exited after %.1f s\n", pid, static_cast<double>(shm::monotonic_ns() - start) / 1e9);
    return exit_ok;
}

}  // namespace fastfork::tools
