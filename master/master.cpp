#include "master/master.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "master/plural.hpp"
#include "master/privileges.hpp"
#include "master/running_instances.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"
#include "worker/loop.hpp"

namespace fastfork::master {

namespace {
constexpr std::uint64_t tick_ms = 50;
constexpr std::uint64_t crash_window_ms = 10'000;  // exits within this window count as a crash loop
constexpr std::uint64_t max_backoff_ms = 5'000;

std::string describe_status(int status) {
    char buf[64];
    if (WIFEXITED(status))
        std::snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        std::snprintf(buf, sizeof buf, "signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                      WCOREDUMP(status) ? ", core dumped" : "");
    else
        std::snprintf(buf, sizeof buf, "status 0x%x", status);
    return buf;
}

}  // namespace

master_process::master_process(config cfg, overrides flags, Handler handler, worker_init init)
    : cfg_(std::move(cfg)), flags_(std::move(flags)), handler_(std::move(handler)), init_(std::move(init)) {}

master_process::~master_process() {
    sockets_.close_all();
    if (segment_.is_open()) segment_.unlink();
    if (shm::current_segment() == segment_.get()) shm::set_current_segment(nullptr, {});
    if (!cfg_.pid_file.empty()) ::unlink(cfg_.pid_file.c_str());
}

bool master_process::start_worker(unsigned index, std::uint64_t generation, const config& cfg) {
    worker_identity identity;
    if (std::string why = resolve_worker_identity(cfg, ::geteuid(), identity); !why.empty()) {
        FF_LOG_ALERT("cannot start worker %u: %s", index, why.c_str());
        return false;
    }
    auto slot = procs_.take_slot();
    if (!slot) {
        FF_LOG_ALERT("no free stats slot for worker %u: too many worker processes", index);
        return false;
    }
    auto& ws = segment_.get()->slots[*slot];
    ws.state.store(static_cast<std::uint32_t>(shm::worker_state::starting), std::memory_order_relaxed);
    ws.worker_index.store(index, std::memory_order_relaxed);
    ws.generation.store(generation, std::memory_order_relaxed);
    ws.start_time_ms.store(shm::realtime_ms(), std::memory_order_relaxed);
    ws.heartbeat_ms.store(shm::monotonic_ms(), std::memory_order_relaxed);
    ws.restarts.store(index < indexes_.size() ? indexes_[index].restarts : 0, std::memory_order_relaxed);

    spawn_request req;
    req.index = index;
    req.generation = generation;
    req.listen_fds = sockets_.fds_for(cfg.listen, index);
    req.slot = &ws;
    req.cfg = &cfg;
    req.handler = &handler_;
    req.init = &init_;
    req.master_pid = pid_;
    req.log_fd = worker::log_fd() > 2 ? worker::log_fd() : -1;
    req.identity = &identity;
    for (const auto& h : signals_) req.parent_signals.push_back(h.get());
    if (cfg.cpu_affinity) {
        long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
        req.cpu = static_cast<int>(index % static_cast<unsigned>(cpus > 0 ? cpus : 1));
    }
    pid_t pid = spawn_worker(req);
    if (pid < 0) {
        ws.state.store(static_cast<std::uint32_t>(shm::worker_state::empty), std::memory_order_relaxed);
        procs_.return_slot(*slot);
        return false;
    }
    ws.pid.store(pid, std::memory_order_release);
    worker_proc w;
    w.pid = pid;
    w.index = index;
    w.generation = generation;
    w.slot = *slot;
    w.started_ms = shm::monotonic_ms();
    procs_.add(w);
    FF_LOG_INFO("started worker %u (pid %d, generation %llu)", index, static_cast<int>(pid),
                static_cast<unsigned long long>(generation));
    return true;
}

// ---------------------------------------------------------------- the cycle

int master_process::run() {
    pid_ = ::getpid();
    worker::set_log_tag("master");
    apply_log_level(cfg_);
    if (!cfg_.error_log.empty() && !worker::reopen_log_file(cfg_.error_log.c_str())) {
        std::fprintf(stderr, "fastfork: cannot open error_log %s: %s\n", cfg_.error_log.c_str(), std::strerror(errno));
        return 1;
    }
    name_ = instance_name(cfg_);
    worker_count_ = resolved_workers(cfg_);
    // The sockets first: an address another instance serves is the likelier clash, and its
    // message names that instance; the name check below then only meets instances elsewhere.
    std::string error;
    if (!sockets_.open(cfg_.listen, worker_count_, cfg_.backlog, error)) {
        FF_LOG_ALERT("%s", error.c_str());
        return 1;
    }
    if (auto other = find_running_instance(name_); other && other->master_pid != pid_) {
        FF_LOG_ALERT(
            "another fastfork instance named \"%s\" is running (master pid %ld, stats segment "
            "/dev/shm/fastfork.%s); stop it first: %s",
            name_.c_str(), other->master_pid, name_.c_str(), how_to_stop(*other).c_str());
        return 1;
    }
    try {
        segment_ = shm::segment::create(name_, pid_);
        shm::set_current_segment(segment_.get(), name_);  // workers inherit it: /metrics, /stats
    } catch (const std::exception& e) {
        FF_LOG_ALERT("%s", e.what());
        return 1;
    }
    auto& header = segment_.get()->header;
    procs_.attach(segment_.get());
    if (!cfg_.pid_file.empty()) {
        std::ofstream pf(cfg_.pid_file, std::ios::trunc);
        pf << pid_ << '\n';
        if (!pf) {
            FF_LOG_ALERT("cannot write pid_file %s: %s", cfg_.pid_file.c_str(), std::strerror(errno));
            return 1;
        }
    }
    if (int rc = uv_loop_init(&loop_); rc != 0) {
        FF_LOG_ALERT("uv_loop_init failed: %s", uv_strerror(rc));
        return 1;
    }
    std::signal(SIGPIPE, SIG_IGN);
    for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGTTIN, SIGTTOU, SIGCHLD}) {
        auto h = std::make_unique<uv_signal_t>();
        uv_signal_init(&loop_, h.get());
        h->data = this;
        uv_signal_start(h.get(), on_signal, sig);
        signals_.push_back(std::move(h));
    }
    uv_timer_init(&loop_, &tick_);
    tick_.data = this;
    uv_timer_start(&tick_, on_tick, tick_ms, tick_ms);

    if (::geteuid() == 0 && cfg_.user.empty() && cfg_.group.empty())
        FF_LOG_WARN(
            "running as root without \"user\": the workers keep root too; set \"user\" (e.g. "
            "\"nobody\") to drop it, or \"user\": \"root\" to keep it without this warning");
    hand_over_logs(cfg_);
    header.generation.store(generation_);
    header.workers.store(worker_count_);
    indexes_.resize(worker_count_);
    start_deadline_ms_ = shm::monotonic_ms() + static_cast<std::uint64_t>(cfg_.reload_timeout.count());
    for (unsigned i = 0; i < worker_count_; ++i) {
        if (!start_worker(i, generation_, cfg_)) {
            exit_code_ = 1;
            begin_shutdown(false);
            break;
        }
    }
    FF_LOG_INFO("%s on %s (stats: /dev/shm/fastfork.%s)", count_of(worker_count_, "worker").c_str(),
                cfg_.listen.front().c_str(), name_.c_str());
    uv_run(&loop_, UV_RUN_DEFAULT);

    worker::close_loop(&loop_);
    FF_LOG_INFO("master %d exits with status %d", static_cast<int>(pid_), exit_code_);
    return exit_code_;
}

void master_process::on_signal(uv_signal_t* handle, int signum) noexcept {
    auto* self = static_cast<master_process*>(handle->data);
    FF_ASSERT(self);
    switch (signum) {
        case SIGCHLD:
            self->reap_children();
            break;
        case SIGTERM:
        case SIGINT:
            if (self->stopping_) {
                FF_LOG_INFO("second %s: stopping now", signum == SIGTERM ? "SIGTERM" : "SIGINT");
                self->forced_ = true;
                self->signal_generation(0, SIGKILL, false);
            } else {
                FF_LOG_INFO("%s: graceful shutdown", signum == SIGTERM ? "SIGTERM" : "SIGINT");
                self->begin_shutdown(true);
            }
            break;
        case SIGQUIT:
            FF_LOG_INFO("SIGQUIT: stopping now");
            self->begin_shutdown(false);
            break;
        case SIGHUP:
            self->begin_reload();
            break;
        case SIGUSR1:
            self->reopen_logs();
            break;
        case SIGTTIN:
            self->add_worker();
            break;
        case SIGTTOU:
            self->remove_worker();
            break;
        default:
            break;
    }
}

void master_process::on_tick(uv_timer_t* timer) noexcept {
    auto* self = static_cast<master_process*>(timer->data);
    FF_ASSERT(self);
    self->tick();
}

bool master_process::all_ready(std::uint64_t generation) const noexcept {
    unsigned ready = 0;
    for (const auto& w : procs_.workers())
        if (w.generation == generation && !w.stopping && w.ready) ++ready;
    return ready >= worker_count_;
}

void master_process::tick() noexcept {
    const std::uint64_t now = shm::monotonic_ms();
    // Readiness is published by each worker in its stats slot once it accepts.
    for (auto& w : procs_.workers()) {
        if (!w.ready && procs_.slot(w).state.load(std::memory_order_acquire) ==
                            static_cast<std::uint32_t>(shm::worker_state::ready)) {
            w.ready = true;
        }
    }
    if (stopping_) {
        if (now >= shutdown_deadline_ms_ && !forced_) {
            FF_LOG_WARN("shutdown_timeout: killing %s", count_of(procs_.size(), "worker").c_str());
            forced_ = true;
            signal_generation(0, SIGKILL, false);
        }
        if (procs_.empty()) uv_stop(&loop_);
        return;
    }
    if (starting_) {
        if (all_ready(generation_)) {
            starting_ = false;
            if (worker_count_ == 1)
                FF_LOG_INFO("the worker is ready");
            else
                FF_LOG_INFO("all %u workers ready", worker_count_);
            notifier_.ready();
            if (reload_again_) {  // a SIGHUP that came while the first generation started
                reload_again_ = false;
                begin_reload();
            }
        } else if (now >= start_deadline_ms_) {
            FF_LOG_ALERT("workers not ready within reload_timeout: giving up");
            exit_code_ = 1;
            begin_shutdown(false);
            return;
        }
    }
    // Respawns waiting out a crash-loop backoff.
    for (unsigned i = 0; i < indexes_.size() && i < worker_count_; ++i) {
        auto& st = indexes_[i];
        if (st.respawn_at_ms != 0 && now >= st.respawn_at_ms) {
            st.respawn_at_ms = 0;
            start_worker(i, generation_, cfg_);
        }
    }
    if (reload_.active) progress_reload(now);
    watchdog_.check_heartbeats(now, procs_, static_cast<std::uint64_t>(cfg_.worker_timeout.count()));
    watchdog_.update_status(now, procs_, segment_.get()->header, worker_count_, generation_);
}

// ---------------------------------------------------------------- reaping and respawn

void master_process::reap_children() noexcept {
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid == 0) return;
        if (pid < 0) {
            if (errno == EINTR) continue;
            return;  // ECHILD: nothing left
        }
        if (auto w = procs_.remove(pid)) on_worker_exit(*w, status);
    }
}

void master_process::on_worker_exit(worker_proc w, int status) noexcept {
    auto& header = segment_.get()->header;
    procs_.slot(w).state.store(static_cast<std::uint32_t>(shm::worker_state::exited));
    procs_.release_slot(w.slot);
    const bool fatal = WIFEXITED(status) && WEXITSTATUS(status) == worker_fatal_exit;
    if (w.stopping || stopping_) {
        FF_LOG_INFO("worker %u (pid %d) exited: %s", w.index, static_cast<int>(w.pid), describe_status(status).c_str());
        if (stopping_ && procs_.empty()) uv_stop(&loop_);
        return;
    }
    const std::uint64_t now = shm::monotonic_ms();
    if (starting_ && fatal) {
        FF_LOG_ALERT("worker %u (pid %d) cannot start (%s): shutting down", w.index, static_cast<int>(w.pid),
                     describe_status(status).c_str());
        exit_code_ = 1;
        begin_shutdown(false);
        return;
    }
    if (reload_.active && w.generation == reload_.generation) {
        rollback_reload("worker " + std::to_string(w.index) + " of the new generation exited before it was ready (" +
                        describe_status(status) + ")");
        return;
    }
    if (w.generation != generation_ || w.index >= worker_count_) {
        FF_LOG_WARN("worker %u (pid %d) of an old generation exited: %s", w.index, static_cast<int>(w.pid),
                    describe_status(status).c_str());
        return;
    }
    auto& st = indexes_[w.index];
    ++st.restarts;
    header.restarts.fetch_add(1, std::memory_order_relaxed);
    st.recent_exits.erase(std::remove_if(st.recent_exits.begin(), st.recent_exits.end(),
                                         [now](std::uint64_t t) { return now - t > crash_window_ms; }),
                          st.recent_exits.end());
    st.recent_exits.push_back(now);
    // The first exit in the window restarts at once; repeated exits back off exponentially
    // (crash loop), and a worker that cannot start at all waits the longest.
    std::uint64_t delay = 0;
    if (fatal) {
        delay = max_backoff_ms;
    } else if (st.recent_exits.size() > 1) {
        delay =
            std::min<std::uint64_t>(max_backoff_ms, 100ull << std::min<std::size_t>(st.recent_exits.size() - 2, 10));
    }
    FF_LOG_ERROR("worker %u (pid %d) exited unexpectedly: %s; restart %llu %s", w.index, static_cast<int>(w.pid),
                 describe_status(status).c_str(), static_cast<unsigned long long>(st.restarts),
                 delay == 0 ? "now" : ("in " + std::to_string(delay) + " ms").c_str());
    if (delay == 0)
        start_worker(w.index, generation_, cfg_);
    else
        st.respawn_at_ms = now + delay;
}

void master_process::signal_generation(std::uint64_t generation, int sig, bool exact) noexcept {
    for (auto& w : procs_.workers())
        if (!exact || w.generation == generation) procs_.stop(w, sig);
}

// ---------------------------------------------------------------- scaling, logs, shutdown

void master_process::add_worker() noexcept {
    if (stopping_ || reload_.active) return;
    std::string error;
    if (!sockets_.open(cfg_.listen, worker_count_ + 1, cfg_.backlog, error)) {
        FF_LOG_ERROR("SIGTTIN: cannot add a worker: %s", error.c_str());
        return;
    }
    unsigned index = worker_count_++;
    if (indexes_.size() < worker_count_) indexes_.resize(worker_count_);
    segment_.get()->header.workers.store(worker_count_);
    FF_LOG_INFO("SIGTTIN: adding worker %u", index);
    start_worker(index, generation_, cfg_);
}

void master_process::remove_worker() noexcept {
    if (stopping_ || reload_.active || worker_count_ <= 1) return;
    unsigned index = --worker_count_;
    segment_.get()->header.workers.store(worker_count_);
    indexes_[index].respawn_at_ms = 0;
    FF_LOG_INFO("SIGTTOU: removing worker %u", index);
    for (auto& w : procs_.workers())
        if (w.index == index && !w.stopping) procs_.stop(w, SIGTERM);
    sockets_.close_unused(cfg_.listen, worker_count_);
}

void master_process::reopen_logs() noexcept {
    if (!cfg_.error_log.empty() && !worker::reopen_log_file(cfg_.error_log.c_str()))
        FF_LOG_ERROR("reopen(%s) failed: %s", cfg_.error_log.c_str(), std::strerror(errno));
    hand_over_logs(cfg_);  // the new files, before the workers reopen them
    FF_LOG_INFO("SIGUSR1: logs reopened");
    for (const auto& w : procs_.workers()) ::kill(w.pid, SIGUSR1);
}

void master_process::hand_over_logs(const config& cfg) noexcept {
    worker_identity identity;
    if (!resolve_worker_identity(cfg, ::geteuid(), identity).empty() || !identity.drop) return;
    // Workers open the access log and reopen both logs (SIGUSR1) after dropping root: the files
    // must be theirs. The directories need not be writable to them.
    for (const std::string* path : {&cfg.handlers.access_log, &cfg.error_log})
        if (std::string why = hand_over_file(*path, identity); !why.empty()) FF_LOG_ERROR("%s", why.c_str());
}

void master_process::begin_shutdown(bool graceful) noexcept {
    if (stopping_) return;
    stopping_ = true;
    segment_.get()->header.stopping.store(1);
    notifier_.stopping();
    shutdown_deadline_ms_ = shm::monotonic_ms() + static_cast<std::uint64_t>(cfg_.shutdown_timeout.count());
    // Our copies of the sockets go first, so that the listeners really close (and refuse new
    // connections) as soon as each worker has stopped accepting.
    sockets_.close_all();
    signal_generation(0, graceful ? SIGTERM : SIGQUIT, false);
    if (!graceful) forced_ = true;
    if (procs_.empty()) uv_stop(&loop_);
}

}  // namespace fastfork::master
