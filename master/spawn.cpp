#include "master/spawn.hpp"

#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "handlers/features.hpp"
#include "shm/clock.hpp"
#include "shm/text.hpp"
#include "worker/backtrace.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork::master {

namespace {

struct open_fd {
    int fd;
    dev_t dev;
    ino_t ino;
};

// The master's descriptors right before fork. The child closes exactly these (minus its own):
// libuv's pthread_atfork handler re-creates its signal lock pipe in the child, and that fresh
// pipe (new inode) must survive, so a blanket close_range would break uv_signal_t there.
std::vector<open_fd> snapshot_fds() {
    std::vector<open_fd> out;
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return out;
    int dir_fd = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
        int fd = std::atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dir_fd) continue;
        struct stat st {};
        if (::fstat(fd, &st) == 0) out.push_back({fd, st.st_dev, st.st_ino});
    }
    ::closedir(d);
    return out;
}

// The reason a worker cannot start, for the master to report (its reload message, its log):
// the worker logs it too, but an operator running `fastforkctl reload` reads only the message.
void leave_note(const spawn_request& req, const std::string& why) noexcept {
    if (req.note) shm::copy_text(req.note->text, sizeof req.note->text, why);
}

[[noreturn]] void run_child(const spawn_request& req, const std::vector<open_fd>& inherited) noexcept {
    // 1. Default dispositions before anything can unblock a signal: the master's handlers
    //    (libuv's) must never run here.
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::signal(sig, SIG_DFL);
    }
    // Only the child's copy of libuv's global signal tree changes here (and sigaction);
    // the master's loop and its epoll instance are not touched.
    for (uv_signal_t* h : req.parent_signals) uv_signal_stop(h);
    // 2. Keep stdio, our sockets and the log; close the rest of what the master had open.
    for (const auto& f : inherited) {
        bool keep = f.fd == req.log_fd;
        for (int mine : req.listen_fds) keep = keep || mine == f.fd;
        struct stat st {};
        if (keep || ::fstat(f.fd, &st) != 0 || st.st_ino != f.ino || st.st_dev != f.dev) continue;
        ::close(f.fd);
    }
    // 3. Give up root (the `user` key) before any handler or worker_init code runs. A uid change
    //    clears PR_SET_PDEATHSIG, so this comes before step 4.
    if (req.identity) {
        if (std::string why = drop_privileges(*req.identity); !why.empty()) {
            FF_LOG_ALERT("worker %u cannot drop privileges to uid %u gid %u: %s", req.index,
                         static_cast<unsigned>(req.identity->uid), static_cast<unsigned>(req.identity->gid),
                         why.c_str());
            leave_note(req, "cannot drop privileges to uid " + std::to_string(req.identity->uid) + ": " + why);
            ::_exit(worker_fatal_exit);
        }
    }
    // 4. Die with the master; the getppid() check covers a master that died before prctl.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != req.master_pid) ::_exit(0);
    if (req.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(req.cpu, &set);
        if (::sched_setaffinity(0, sizeof set, &set) != 0)
            FF_LOG_WARN("sched_setaffinity(cpu %d) failed: %s", req.cpu, std::strerror(errno));
    }
    char tag[32];
    std::snprintf(tag, sizeof tag, "worker %u", req.index);
    worker::set_log_tag(tag);
    apply_log_level(*req.cfg);
    worker::install_backtrace_handler();  // the watchdog asks for it before it kills a stuck worker  // a reload's
                                          // generation may log at another level than the master so far

    shm::worker_slot& slot = *req.slot;
    slot.heartbeat_ms.store(shm::monotonic_coarse_ms(), std::memory_order_relaxed);
    sigset_t none;
    sigemptyset(&none);

    int code = 0;
    try {
        if (req.init && *req.init) (*req.init)();
        worker::options opts = req.cfg->worker;
        opts.slot = req.index;
        opts.generation = req.generation;
        // First, before the loop exists: a worker that cannot log as configured does not start.
        handlers::features features(req.cfg->handlers, req.index);
        worker::server srv(opts, *req.handler, &slot.counters, &slot.latency);
        features.attach(srv);
        for (std::size_t i = 0; i < req.listen_fds.size(); ++i) {
            const tls::server_context* tls = i < req.listen_tls.size() ? req.listen_tls[i] : nullptr;
            srv.add_listener(req.listen_fds[i], tls ? tls->native() : nullptr);
        }
        srv.set_shutdown_timeout(static_cast<std::uint64_t>(req.cfg->shutdown_timeout.count()));
        std::uint64_t master_pid = static_cast<std::uint64_t>(req.master_pid);
        // A changed parent is the reliable sign that the master is gone. The kernel reparents a
        // child before it sends the PR_SET_PDEATHSIG signal, so the SIGTERM of the master's death
        // already sees it and the log can say why; the tick catches a death signal that was lost
        // (it fires on the death of the forking *thread*).
        auto master_exited = [master_pid] { return static_cast<std::uint64_t>(::getppid()) != master_pid; };
        srv.set_term_reason_hook(
            [master_exited]() -> const char* { return master_exited() ? "master exited" : nullptr; });
        srv.set_tick_hook([&slot, &srv, master_exited] {
            slot.heartbeat_ms.store(shm::monotonic_coarse_ms(), std::memory_order_relaxed);
            if (master_exited()) srv.drain_because("master exited");
            if (srv.is_draining())
                slot.state.store(static_cast<std::uint32_t>(shm::worker_state::draining), std::memory_order_relaxed);
        });
        if (!req.cfg->error_log.empty()) {
            std::string path = req.cfg->error_log;
            srv.set_reopen_hook([path] { worker::reopen_log_file(path.c_str()); });
        }
        srv.set_ready_hook([&slot] {
            slot.state.store(static_cast<std::uint32_t>(shm::worker_state::ready), std::memory_order_release);
        });
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        worker::exit_reason why = srv.run(/*ignore_sigint=*/true);
        code = why == worker::exit_reason::error ? worker_fatal_exit : 0;
        if (code != 0) leave_note(req, "its listeners could not start (see the error log)");
    } catch (const std::exception& e) {
        FF_LOG_ALERT("worker cannot start: %s", e.what());
        leave_note(req, e.what());
        code = worker_fatal_exit;
    } catch (...) {
        FF_LOG_ALERT("worker cannot start: unknown exception");
        leave_note(req, "unknown exception");
        code = worker_fatal_exit;
    }
    // _exit: the master's objects copied into this process must not run their destructors.
    ::_exit(code);
}

}  // namespace

pid_t spawn_worker(const spawn_request& req) {
    std::vector<open_fd> inherited = snapshot_fds();
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = ::fork();
    if (pid == 0) run_child(req, inherited);
    int err = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
        FF_LOG_ALERT("fork() failed: %s", std::strerror(err));
        return -err;
    }
    return pid;
}

}  // namespace fastfork::master
