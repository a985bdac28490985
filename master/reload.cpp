// The reload state machine of the master (SIGHUP): begin (re-read the config, open new
// addresses, start the new generation), progress (wait until it is ready), then commit (drain
// the old generation) or roll back (stop the new one, keep the old one serving).

#include <signal.h>

#include <cstdio>
#include <string>

#include "master/master.hpp"
#include "shm/clock.hpp"
#include "shm/text.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

void master_process::record_reload(bool ok, const std::string& message) noexcept {
    auto& h = segment_.get()->header;
    h.reload_seq.fetch_add(1, std::memory_order_acq_rel);                // odd: readers retry
    shm::copy_text(h.reload_message, sizeof h.reload_message, message);  // cut at a UTF-8 boundary
    h.reload_ok.store(ok ? 1 : 0, std::memory_order_relaxed);
    h.reload_count.fetch_add(1, std::memory_order_relaxed);
    (ok ? h.reloads_ok : h.reloads_failed).fetch_add(1, std::memory_order_relaxed);
    h.reload_seq.fetch_add(1, std::memory_order_acq_rel);
}

void master_process::begin_reload() noexcept {
    if (stopping_) return;
    finish_scale_down();  // a SIGTTOU's worker goes before the worker count is read
    if (upgrade_.active) {
        FF_LOG_WARN("SIGHUP: refused during a binary upgrade (the new master reads the configuration)");
        record_reload(false, "reload refused: a binary upgrade is in progress");
        return;
    }
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
    // Certificates and keys are loaded here, before anything changes: a bad one keeps the
    // serving generation as it is.
    std::string tls_error;
    if (!tls_.prepare(generation_ + 1, next, tls_error)) {
        FF_LOG_ERROR("reload failed, keeping generation %llu: %s", static_cast<unsigned long long>(generation_),
                     tls_error.c_str());
        record_reload(false, tls_error);
        notifier_.ready();
        return;
    }
    const unsigned count = resolved_workers(next);
    std::vector<std::string> added;
    for (const auto& a : next.listen)
        if (!sockets_.contains(a)) added.push_back(a);
    std::string error;
    if (!sockets_.open(next.listen, count, cfg_.backlog, error)) {
        for (const auto& a : added) sockets_.close(a);
        tls_.keep_only(generation_);
        FF_LOG_ERROR("reload failed, keeping generation %llu: %s", static_cast<unsigned long long>(generation_),
                     error.c_str());
        record_reload(false, error);
        notifier_.ready();
        return;
    }
    reload_.active = true;
    reload_.generation = generation_ + 1;
    reload_.deadline_ms = shm::monotonic_ms() + static_cast<std::uint64_t>(next.reload_timeout.count());
    reload_.next = std::move(next);
    reload_.new_addresses = std::move(added);
    segment_.get()->header.generation.store(reload_.generation);
    hand_over_logs(reload_.next);
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
    for (const auto& w : procs_.workers())
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
    tls_.keep_only(generation_);
    // Old workers drain: their sockets stay open here, so nothing queued is lost.
    for (auto& w : procs_.workers())
        if (w.generation <= old_generation && !w.stopping) procs_.stop(w, SIGTERM);
    for (auto& st : indexes_) st.respawn_at_ms = 0;
    sockets_.close_unused(cfg_.listen, worker_count_);
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
    for (auto& w : procs_.workers()) {
        if (w.generation != reload_.generation || w.stopping) continue;
        const bool accepting = procs_.slot(w).state.load(std::memory_order_acquire) ==
                               static_cast<std::uint32_t>(shm::worker_state::ready);
        procs_.stop(w, accepting ? SIGTERM : SIGKILL);
    }
    for (const auto& a : reload_.new_addresses) sockets_.close(a);
    segment_.get()->header.generation.store(generation_);
    reload_ = reload_state{};
    tls_.keep_only(generation_);
    record_reload(false, why);
    notifier_.ready();
    if (reload_again_) {  // a SIGHUP sent during this reload (perhaps with the cause fixed)
        reload_again_ = false;
        begin_reload();
    }
}

}  // namespace fastfork::master
