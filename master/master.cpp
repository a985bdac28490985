#include "master/master.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "master/inherited_sockets.hpp"
#include "master/privileges.hpp"
#include "master/queue_migration.hpp"
#include "master/running_instances.hpp"
#include "shm/clock.hpp"
#include "shm/plural.hpp"
#include "worker/log.hpp"
#include "worker/loop.hpp"

namespace fastfork::master {

namespace {
constexpr std::uint64_t tick_ms = 50;
constexpr std::uint64_t crash_window_ms = 10'000;  // exits within this window count as a crash loop
constexpr std::uint64_t max_backoff_ms = 5'000;

}  // namespace

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

master_process::master_process(config cfg, overrides flags, Handler handler, worker_init init)
    : cfg_(std::move(cfg)), flags_(std::move(flags)), handler_(std::move(handler)), init_(std::move(init)) {}

master_process::~master_process() {
    sockets_.close_all();
    // After an upgrade the segment lives on in the new master; a new master that failed leaves
    // it to the old one.
    if (segment_.is_open() && owns_header()) segment_.unlink();
    if (shm::current_segment() == segment_.get()) shm::set_current_segment(nullptr, {});
    if (!cfg_.pid_file.empty()) {
        remove_pid_file(cfg_.pid_file);
        if (handed_over_) remove_pid_file(oldbin_path(cfg_.pid_file));
    }
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
    if (const auto* contexts = tls_.contexts(generation))
        for (std::size_t i = 0; i < req.listen_fds.size(); ++i) req.listen_tls.push_back(contexts->at(i));
    req.slot = &ws;
    req.note = &segment_.get()->slot_notes[*slot];
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
    self_ = read_own_command();
    worker::set_log_tag("master");
    apply_log_level(cfg_);
    if (!cfg_.error_log.empty() && !worker::reopen_log_file(cfg_.error_log.c_str())) {
        std::fprintf(stderr, "fastfork: cannot open error_log %s: %s\n", cfg_.error_log.c_str(), std::strerror(errno));
        return 1;
    }
    name_ = instance_name(cfg_);
    worker_count_ = resolved_workers(cfg_);
    std::string error;
    handover_ = take_handover(error);
    if (!error.empty()) return startup_failed(error);
    if (handover_ && handover_->name != name_)
        return startup_failed("the new master's configuration names the instance \"" + name_ +
                              "\", the running one is \"" + handover_->name +
                              "\": an upgrade keeps the instance (set \"name\")");
    // Sockets handed over by the old master (or systemd) first: they are ours, not a conflict.
    if (!adopt_inherited_sockets(cfg_.listen, sockets_, error)) return startup_failed(error);
    // The sockets first: an address another instance serves is the likelier clash, and its
    // message names that instance; the name check below then only meets instances elsewhere.
    if (!sockets_.open(cfg_.listen, worker_count_, cfg_.backlog, error)) return startup_failed(error);
    sockets_.close_unused(cfg_.listen, worker_count_);  // inherited beyond what this config uses
    if (auto other = find_running_instance(name_);
        other && other->master_pid != pid_ && !(handover_ && other->master_pid == handover_->old_master)) {
        return startup_failed("another fastfork instance named \"" + name_ + "\" is running (master pid " +
                              std::to_string(other->master_pid) + ", stats segment /dev/shm/fastfork." + name_ +
                              "); stop it first: " + how_to_stop(*other));
    }
    try {
        segment_ = handover_ ? shm::segment::adopt(name_, handover_->old_master) : shm::segment::create(name_, pid_);
        shm::set_current_segment(segment_.get(), name_);  // workers inherit it: /metrics, /stats
    } catch (const std::exception& e) {
        return startup_failed(e.what());
    }
    auto& header = segment_.get()->header;
    if (handover_) {
        procs_.attach(segment_.get(), handover_->slots);
        generation_ = header.generation.load() + 1;  // generations go on across the upgrade
        // Restart counts per index go on too, as they do across a reload.
        for (const auto& ws : segment_.get()->slots) {
            const unsigned index = ws.worker_index.load(std::memory_order_relaxed);
            if (ws.pid.load(std::memory_order_relaxed) != 0 && index < worker_count_) {
                if (indexes_.size() <= index) indexes_.resize(index + 1);
                indexes_[index].restarts = std::max(indexes_[index].restarts, ws.restarts.load());
            }
        }
    } else {
        procs_.attach(segment_.get());
    }
    // Certificates load before any worker or pid file exists: a bad one stops the start here.
    if (!tls_.prepare(generation_, cfg_, error)) return startup_failed(error);
    if (!write_pid_file())
        return startup_failed("cannot write pid_file " + cfg_.pid_file + ": " + std::strerror(errno));
    if (int rc = uv_loop_init(&loop_); rc != 0)
        return startup_failed(std::string("uv_loop_init failed: ") + uv_strerror(rc));
    std::signal(SIGPIPE, SIG_IGN);
    for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGTTIN, SIGTTOU, SIGCHLD}) {
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
    if (!handover_) warn_without_queue_migration();
    hand_over_logs(cfg_);
    if (owns_header()) {
        header.generation.store(generation_);
        header.workers.store(worker_count_);
    }
    indexes_.resize(std::max<std::size_t>(indexes_.size(), worker_count_));
    start_deadline_ms_ = shm::monotonic_ms() + static_cast<std::uint64_t>(cfg_.reload_timeout.count());
    for (unsigned i = 0; i < worker_count_; ++i) {
        if (!start_worker(i, generation_, cfg_)) {
            abandon_start("cannot start worker " + std::to_string(i));
            break;
        }
    }
    FF_LOG_INFO("%u worker%s on %s (stats: /dev/shm/fastfork.%s)", worker_count_, shm::plural_s(worker_count_),
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
        case SIGUSR2:
            self->begin_upgrade();
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
    // During a binary upgrade the new master shares the key ring and rotates it: one writer.
    if (!upgrade_.active && !handed_over_) tls_.tick(now);
    // Readiness is published by each worker in its stats slot once it accepts.
    for (auto& w : procs_.workers()) {
        if (!w.ready && procs_.slot(w).state.load(std::memory_order_acquire) ==
                            static_cast<std::uint32_t>(shm::worker_state::ready)) {
            w.ready = true;
        }
    }
    if (stopping_) {
        if (now >= shutdown_deadline_ms_ && !forced_) {
            FF_LOG_WARN("shutdown_timeout: killing %zu worker%s", procs_.size(), shm::plural_s(procs_.size()));
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
            if (handover_)
                complete_handover();
            else
                notifier_.ready();
            if (reload_again_) {  // a SIGHUP that came while the first generation started
                reload_again_ = false;
                begin_reload();
            }
        } else if (now >= start_deadline_ms_) {
            abandon_start("workers not ready within reload_timeout (" + std::to_string(cfg_.reload_timeout.count()) +
                          " ms): giving up");
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
    if (reload_.active)
        progress_reload(now);
    else if (!starting_ && !upgrade_.active && !handover_)
        progress_recycling(now);
    if (upgrade_.active) progress_upgrade(now);
    if (handover_) watch_old_master(now);
    watchdog_.check_heartbeats(now, procs_, static_cast<std::uint64_t>(cfg_.worker_timeout.count()));
    progress_scale_down(now);
    steering_.update(now, procs_, sockets_, worker_count_, cfg_.reuseport_steering);
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
        if (auto w = procs_.remove(pid))
            on_worker_exit(*w, status);
        else if (upgrade_.active && pid == upgrade_.pid)
            on_upgrade_exit(status);
    }
}

void master_process::on_worker_exit(worker_proc w, int status) noexcept {
    auto& header = segment_.get()->header;
    // Why it could not start, in its own words (its stats slot's note): "exit status 3" alone
    // tells the operator nothing.
    const std::string reason = procs_.note(w.slot);
    procs_.slot(w).state.store(static_cast<std::uint32_t>(shm::worker_state::exited));
    procs_.release_slot(w.slot);
    const bool fatal = WIFEXITED(status) && WEXITSTATUS(status) == worker_fatal_exit;
    const std::string status_text = describe_status(status) + (reason.empty() ? "" : ": " + reason);
    if (!stopping_ && on_recycle_exit(w, status, reason)) return;
    if (w.stopping || stopping_) {
        FF_LOG_INFO("worker %u (pid %d) exited: %s", w.index, static_cast<int>(w.pid), describe_status(status).c_str());
        if (stopping_ && procs_.empty()) uv_stop(&loop_);
        return;
    }
    const std::uint64_t now = shm::monotonic_ms();
    if (starting_ && fatal) {
        abandon_start("worker " + std::to_string(w.index) + " (pid " + std::to_string(w.pid) + ") cannot start (" +
                      status_text + ")");
        return;
    }
    if (starting_ && handover_) {
        // A new master in an upgrade does not wait out a crash loop: the old one still serves.
        abandon_start("worker " + std::to_string(w.index) + " (pid " + std::to_string(w.pid) +
                      ") exited before it was ready (" + status_text + ")");
        return;
    }
    if (reload_.active && w.generation == reload_.generation) {
        rollback_reload("worker " + std::to_string(w.index) + " of the new generation exited before it was ready (" +
                        status_text + ")");
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
                 status_text.c_str(), static_cast<unsigned long long>(st.restarts),
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
    if (stopping_ || reload_.active || upgrade_.active) return;
    finish_scale_down();  // the slot's old socket closes before the new one opens
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
    finish_scale_down();
    stopping_ = true;
    if (owns_header()) {
        segment_.get()->header.stopping.store(1);
        notifier_.stopping();
    }
    // An upgrade still starting has lost its reason to be: the new master must not take over.
    if (upgrade_.active && !upgrade_.ready) ::kill(upgrade_.pid, SIGTERM);
    shutdown_deadline_ms_ = shm::monotonic_ms() + static_cast<std::uint64_t>(cfg_.shutdown_timeout.count());
    // Our copies of the sockets go first, so that the listeners really close (and refuse new
    // connections) as soon as each worker has stopped accepting.
    sockets_.close_all();
    signal_generation(0, graceful ? SIGTERM : SIGQUIT, false);
    if (!graceful) forced_ = true;
    if (procs_.empty()) uv_stop(&loop_);
}

}  // namespace fastfork::master
