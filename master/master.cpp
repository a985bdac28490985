#include "master/master.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "master/config_file.hpp"
#include "shm/fold.hpp"
#include "shm/text.hpp"
#include "worker/listener.hpp"
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

std::optional<config_error> build_config(const std::string& path, const overrides& flags, config& out) {
    config cfg;
    if (!path.empty()) {
        if (auto err = load_config_file(path, cfg)) return err;
    }
    for (const auto& [key, value] : flags) {
        if (auto err = apply_setting(cfg, key, value)) return config_error{"flag --" + key + ": " + err->message};
    }
    if (auto err = validate(cfg)) return err;
    cfg.source = path;
    out = std::move(cfg);
    return std::nullopt;
}

std::string instance_name(const config& cfg) {
    if (!cfg.name.empty()) return cfg.name;
    worker::listen_address a;
    std::string err;
    if (!cfg.listen.empty() && worker::try_parse_listen_address(cfg.listen.front(), a, err)) {
        auto colon = a.text.rfind(':');
        return a.text.substr(colon + 1);
    }
    return "default";
}

master_process::master_process(config cfg, overrides flags, Handler handler, worker_init init)
    : cfg_(std::move(cfg)), flags_(std::move(flags)), handler_(std::move(handler)), init_(std::move(init)) {}

master_process::~master_process() {
    for (auto& [addr, fds] : sockets_)
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    if (segment_.is_open()) segment_.unlink();
    if (shm::current_segment() == segment_.get()) shm::set_current_segment(nullptr, {});
    if (!cfg_.pid_file.empty()) ::unlink(cfg_.pid_file.c_str());
}

// ---------------------------------------------------------------- sockets and slots

bool master_process::open_sockets(const std::vector<std::string>& addresses, unsigned count, std::string& error) {
    for (const auto& spec : addresses) {
        worker::listen_address a;
        if (!worker::try_parse_listen_address(spec, a, error)) {
            error = "listen \"" + spec + "\": " + error;
            return false;
        }
        auto& fds = sockets_[spec];
        while (fds.size() < count) {
            int fd = worker::open_listen_socket(a, cfg_.backlog);
            if (fd < 0) {
                error = "cannot listen on " + a.text + ": " + std::strerror(-fd);
                return false;
            }
            fds.push_back(fd);
        }
    }
    return true;
}

std::vector<int> master_process::fds_for(const config& cfg, unsigned index) const {
    std::vector<int> out;
    for (const auto& spec : cfg.listen) {
        auto it = sockets_.find(spec);
        if (it != sockets_.end() && index < it->second.size()) out.push_back(it->second[index]);
    }
    return out;
}

std::optional<unsigned> master_process::take_slot() noexcept {
    if (free_slots_.empty()) return std::nullopt;
    unsigned s = free_slots_.back();
    free_slots_.pop_back();
    return s;
}

void master_process::release_slot(unsigned slot) noexcept {
    // The dead process's counters continue under its worker index (shm/fold.hpp).
    shm::fold_into_retired(*segment_.get(), slot);
    free_slots_.push_back(slot);
}

bool master_process::start_worker(unsigned index, std::uint64_t generation, const config& cfg) {
    auto slot = take_slot();
    if (!slot) {
        FF_LOG_ALERT("no free stats slot for worker %u: too many worker processes", index);
        return false;
    }
    auto& ws = segment_.get()->slots[*slot];
    ws.state.store(static_cast<std::uint32_t>(shm::worker_state::starting), std::memory_order_relaxed);
    ws.worker_index.store(index, std::memory_order_relaxed);
    ws.generation.store(generation, std::memory_order_relaxed);
    ws.start_time_ms.store(wall_ms(), std::memory_order_relaxed);
    ws.heartbeat_ms.store(monotonic_ms(), std::memory_order_relaxed);
    ws.restarts.store(index < indexes_.size() ? indexes_[index].restarts : 0, std::memory_order_relaxed);

    spawn_request req;
    req.index = index;
    req.generation = generation;
    req.listen_fds = fds_for(cfg, index);
    req.slot = &ws;
    req.cfg = &cfg;
    req.handler = &handler_;
    req.init = &init_;
    req.master_pid = pid_;
    req.log_fd = worker::log_fd() > 2 ? worker::log_fd() : -1;
    for (const auto& h : signals_) req.parent_signals.push_back(h.get());
    if (cfg.cpu_affinity) {
        long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
        req.cpu = static_cast<int>(index % static_cast<unsigned>(cpus > 0 ? cpus : 1));
    }
    pid_t pid = spawn_worker(req);
    if (pid < 0) {
        ws.state.store(static_cast<std::uint32_t>(shm::worker_state::empty), std::memory_order_relaxed);
        free_slots_.push_back(*slot);
        return false;
    }
    ws.pid.store(pid, std::memory_order_release);
    worker_proc w;
    w.pid = pid;
    w.index = index;
    w.generation = generation;
    w.slot = *slot;
    w.started_ms = monotonic_ms();
    workers_.push_back(w);
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
    try {
        segment_ = shm::segment::create(name_, pid_);
        shm::set_current_segment(segment_.get(), name_);  // workers inherit it: /metrics, /stats
    } catch (const std::exception& e) {
        FF_LOG_ALERT("%s", e.what());
        return 1;
    }
    auto& header = segment_.get()->header;
    for (unsigned s = shm::slot_capacity; s-- > 0;) free_slots_.push_back(s);
    std::string error;
    if (!open_sockets(cfg_.listen, worker_count_, error)) {
        FF_LOG_ALERT("%s", error.c_str());
        return 1;
    }
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

    header.generation.store(generation_);
    header.workers.store(worker_count_);
    indexes_.resize(worker_count_);
    start_deadline_ms_ = monotonic_ms() + static_cast<std::uint64_t>(cfg_.reload_timeout.count());
    for (unsigned i = 0; i < worker_count_; ++i) {
        if (!start_worker(i, generation_, cfg_)) {
            exit_code_ = 1;
            begin_shutdown(false);
            break;
        }
    }
    FF_LOG_INFO("%u workers on %s (stats: /dev/shm/fastfork.%s)", worker_count_, cfg_.listen.front().c_str(),
                name_.c_str());
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
    for (const auto& w : workers_)
        if (w.generation == generation && !w.stopping && w.ready) ++ready;
    return ready >= worker_count_;
}

void master_process::tick() noexcept {
    const std::uint64_t now = monotonic_ms();
    // Readiness is published by each worker in its stats slot once it accepts.
    for (auto& w : workers_) {
        if (!w.ready && segment_.get()->slots[w.slot].state.load(std::memory_order_acquire) ==
                            static_cast<std::uint32_t>(shm::worker_state::ready)) {
            w.ready = true;
        }
    }
    if (stopping_) {
        if (now >= shutdown_deadline_ms_ && !forced_) {
            FF_LOG_WARN("shutdown_timeout: killing %zu workers", workers_.size());
            forced_ = true;
            signal_generation(0, SIGKILL, false);
        }
        if (workers_.empty()) uv_stop(&loop_);
        return;
    }
    if (starting_) {
        if (all_ready(generation_)) {
            starting_ = false;
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
    check_heartbeats(now);
    update_status(now);
}

void master_process::check_heartbeats(std::uint64_t now) noexcept {
    const auto limit = static_cast<std::uint64_t>(cfg_.worker_timeout.count());
    for (auto& w : workers_) {
        if (w.stopping) continue;
        std::uint64_t beat = segment_.get()->slots[w.slot].heartbeat_ms.load(std::memory_order_relaxed);
        if (now > beat && now - beat > limit) {
            // A handler stuck in a loop blocks the worker's loop and its heartbeat: like
            // gunicorn's timeout, kill it; the reaper replaces it.
            FF_LOG_ERROR("worker %u (pid %d) missed its heartbeat for %llu ms: killing it", w.index,
                         static_cast<int>(w.pid), static_cast<unsigned long long>(now - beat));
            ::kill(w.pid, SIGKILL);
            w.ready = false;
            segment_.get()->slots[w.slot].heartbeat_ms.store(now, std::memory_order_relaxed);
        }
    }
    // systemd's watchdog is fed only while every worker's heartbeat is fresh.
    if (notifier_.watchdog_usec() != 0 && now - last_watchdog_ms_ >= notifier_.watchdog_usec() / 2000) {
        bool fresh = !workers_.empty();
        for (const auto& w : workers_) {
            std::uint64_t beat = segment_.get()->slots[w.slot].heartbeat_ms.load(std::memory_order_relaxed);
            if (!w.stopping && now > beat && now - beat > std::min<std::uint64_t>(limit, 5'000)) fresh = false;
        }
        if (fresh) {
            notifier_.watchdog();
            last_watchdog_ms_ = now;
        }
    }
}

void master_process::update_status(std::uint64_t now) noexcept {
    if (!notifier_.is_enabled() || now - last_status_ms_ < 1000) return;
    last_status_ms_ = now;
    unsigned ready = 0;
    for (const auto& w : workers_) ready += w.ready && !w.stopping ? 1 : 0;
    std::uint64_t requests = shm::get(segment_.get()->header.retired.requests);
    for (const auto& w : workers_) requests += shm::get(segment_.get()->slots[w.slot].counters.requests);
    char line[160];
    std::snprintf(line, sizeof line, "%u/%u workers ready, generation %llu, %llu requests served", ready, worker_count_,
                  static_cast<unsigned long long>(generation_), static_cast<unsigned long long>(requests));
    notifier_.status(line);
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
        auto it = std::find_if(workers_.begin(), workers_.end(), [pid](const worker_proc& w) { return w.pid == pid; });
        if (it == workers_.end()) continue;
        worker_proc w = *it;
        workers_.erase(it);
        on_worker_exit(w, status);
    }
}

void master_process::on_worker_exit(worker_proc w, int status) noexcept {
    auto& header = segment_.get()->header;
    segment_.get()->slots[w.slot].state.store(static_cast<std::uint32_t>(shm::worker_state::exited));
    release_slot(w.slot);
    const bool fatal = WIFEXITED(status) && WEXITSTATUS(status) == worker_fatal_exit;
    if (w.stopping || stopping_) {
        FF_LOG_INFO("worker %u (pid %d) exited: %s", w.index, static_cast<int>(w.pid), describe_status(status).c_str());
        if (stopping_ && workers_.empty()) uv_stop(&loop_);
        return;
    }
    const std::uint64_t now = monotonic_ms();
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
    for (auto& w : workers_) {
        if (exact && w.generation != generation) continue;
        w.stopping = true;
        if (sig != SIGKILL)
            segment_.get()->slots[w.slot].state.store(static_cast<std::uint32_t>(shm::worker_state::draining));
        ::kill(w.pid, sig);
    }
}

// ---------------------------------------------------------------- reload

void master_process::record_reload(bool ok, const std::string& message) noexcept {
    auto& h = segment_.get()->header;
    h.reload_seq.fetch_add(1, std::memory_order_acq_rel);  // odd: readers retry
    shm::copy_text(h.reload_message, sizeof h.reload_message, message);  // cut at a UTF-8 boundary
    h.reload_ok.store(ok ? 1 : 0, std::memory_order_relaxed);
    h.reload_count.fetch_add(1, std::memory_order_relaxed);
    (ok ? h.reloads_ok : h.reloads_failed).fetch_add(1, std::memory_order_relaxed);
    h.reload_seq.fetch_add(1, std::memory_order_acq_rel);
}

void master_process::begin_reload() noexcept {
    if (stopping_) return;
    if (reload_.active || starting_) {
        FF_LOG_INFO("SIGHUP: a generation is still starting; reloading again after it");
        reload_again_ = true;
        return;
    }
    notifier_.reloading();
    FF_LOG_INFO("SIGHUP: reloading %s", cfg_.source.empty() ? "(no config file)" : cfg_.source.c_str());
    config next;
    try {
        // Without a file there is nothing to re-read: the new generation gets the same settings
        // (a programmatic config from fastfork::serve must not fall back to the defaults).
        std::optional<config_error> err;
        if (cfg_.source.empty())
            next = cfg_;
        else
            err = build_config(cfg_.source, flags_, next);
        if (err) {
            FF_LOG_ERROR("reload failed, keeping generation %llu: %s", static_cast<unsigned long long>(generation_),
                         err->message.c_str());
            record_reload(false, err->message);
            notifier_.ready();
            return;
        }
    } catch (const std::exception& e) {
        record_reload(false, e.what());
        notifier_.ready();
        return;
    }
    if (instance_name(next) != name_) {
        // The stats segment is named once, at start: renaming would orphan fastforkctl's view.
        next.name = name_;
    }
    const unsigned count = resolved_workers(next);
    std::vector<std::string> added;
    for (const auto& a : next.listen)
        if (!sockets_.count(a)) added.push_back(a);
    std::string error;
    if (!open_sockets(next.listen, count, error)) {
        for (const auto& a : added) {
            for (int fd : sockets_[a]) ::close(fd);
            sockets_.erase(a);
        }
        FF_LOG_ERROR("reload failed, keeping generation %llu: %s", static_cast<unsigned long long>(generation_),
                     error.c_str());
        record_reload(false, error);
        notifier_.ready();
        return;
    }
    reload_.active = true;
    reload_.generation = generation_ + 1;
    reload_.deadline_ms = monotonic_ms() + static_cast<std::uint64_t>(next.reload_timeout.count());
    reload_.next = std::move(next);
    reload_.new_addresses = std::move(added);
    segment_.get()->header.generation.store(reload_.generation);
    if (indexes_.size() < count) indexes_.resize(count);
    for (unsigned i = 0; i < count; ++i) {
        if (!start_worker(i, reload_.generation, reload_.next)) {
            rollback_reload("cannot start worker " + std::to_string(i) + " of the new generation");
            return;
        }
    }
}

void master_process::progress_reload(std::uint64_t now) noexcept {
    unsigned ready = 0;
    const unsigned wanted = resolved_workers(reload_.next);
    for (const auto& w : workers_)
        if (w.generation == reload_.generation && w.ready) ++ready;
    if (ready >= wanted) {
        commit_reload();
        return;
    }
    if (now >= reload_.deadline_ms) rollback_reload("the new generation was not ready within reload_timeout");
}

void master_process::commit_reload() noexcept {
    const std::uint64_t old_generation = generation_;
    generation_ = reload_.generation;
    cfg_ = std::move(reload_.next);
    apply_log_level(cfg_);
    worker_count_ = resolved_workers(cfg_);
    segment_.get()->header.workers.store(worker_count_);
    reload_ = reload_state{};
    // Old workers drain: their sockets stay open here, so nothing queued is lost.
    for (auto& w : workers_)
        if (w.generation <= old_generation && !w.stopping) {
            w.stopping = true;
            segment_.get()->slots[w.slot].state.store(static_cast<std::uint32_t>(shm::worker_state::draining));
            ::kill(w.pid, SIGTERM);
        }
    for (auto& st : indexes_) st.respawn_at_ms = 0;
    close_unused_sockets();
    char msg[96];
    std::snprintf(msg, sizeof msg, "generation %llu serving", static_cast<unsigned long long>(generation_));
    FF_LOG_INFO("reload done: %s", msg);
    record_reload(true, msg);
    notifier_.ready();
    if (reload_again_) {
        reload_again_ = false;
        begin_reload();
    }
}

void master_process::rollback_reload(const std::string& why) noexcept {
    FF_LOG_ERROR("reload failed, rolling back to generation %llu: %s", static_cast<unsigned long long>(generation_),
                 why.c_str());
    // New workers that already accept drain like any other; the rest are killed. Readiness is
    // read from shm here, not from the last tick: a worker may have started accepting since.
    for (auto& w : workers_) {
        if (w.generation != reload_.generation || w.stopping) continue;
        w.stopping = true;
        const bool accepting = segment_.get()->slots[w.slot].state.load(std::memory_order_acquire) ==
                               static_cast<std::uint32_t>(shm::worker_state::ready);
        ::kill(w.pid, accepting ? SIGTERM : SIGKILL);
    }
    for (const auto& a : reload_.new_addresses) {
        for (int fd : sockets_[a]) ::close(fd);
        sockets_.erase(a);
    }
    segment_.get()->header.generation.store(generation_);
    reload_ = reload_state{};
    record_reload(false, why);
    notifier_.ready();
    if (reload_again_) {  // a SIGHUP sent during this reload (perhaps with the cause fixed)
        reload_again_ = false;
        begin_reload();
    }
}

void master_process::close_unused_sockets() noexcept {
    for (auto it = sockets_.begin(); it != sockets_.end();) {
        bool used = std::find(cfg_.listen.begin(), cfg_.listen.end(), it->first) != cfg_.listen.end();
        if (!used) {
            for (int fd : it->second) ::close(fd);
            it = sockets_.erase(it);
            continue;
        }
        while (it->second.size() > worker_count_) {
            ::close(it->second.back());
            it->second.pop_back();
        }
        ++it;
    }
}

// ---------------------------------------------------------------- scaling, logs, shutdown

void master_process::add_worker() noexcept {
    if (stopping_ || reload_.active) return;
    std::string error;
    if (!open_sockets(cfg_.listen, worker_count_ + 1, error)) {
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
    for (auto& w : workers_)
        if (w.index == index && !w.stopping) {
            w.stopping = true;
            segment_.get()->slots[w.slot].state.store(static_cast<std::uint32_t>(shm::worker_state::draining));
            ::kill(w.pid, SIGTERM);
        }
    close_unused_sockets();
}

void master_process::reopen_logs() noexcept {
    if (!cfg_.error_log.empty() && !worker::reopen_log_file(cfg_.error_log.c_str()))
        FF_LOG_ERROR("reopen(%s) failed: %s", cfg_.error_log.c_str(), std::strerror(errno));
    FF_LOG_INFO("SIGUSR1: logs reopened");
    for (const auto& w : workers_) ::kill(w.pid, SIGUSR1);
}

void master_process::begin_shutdown(bool graceful) noexcept {
    if (stopping_) return;
    stopping_ = true;
    segment_.get()->header.stopping.store(1);
    notifier_.stopping();
    shutdown_deadline_ms_ = monotonic_ms() + static_cast<std::uint64_t>(cfg_.shutdown_timeout.count());
    // Our copies of the sockets go first, so that the listeners really close (and refuse new
    // connections) as soon as each worker has stopped accepting.
    for (auto& [addr, fds] : sockets_)
        for (int& fd : fds) {
            ::close(fd);
            fd = -1;
        }
    sockets_.clear();
    signal_generation(0, graceful ? SIGTERM : SIGQUIT, false);
    if (!graceful) forced_ = true;
    if (workers_.empty()) uv_stop(&loop_);
}

}  // namespace fastfork::master
