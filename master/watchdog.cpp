#include "master/watchdog.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "shm/plural.hpp"
#include "worker/backtrace.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

void watchdog::check_heartbeats(std::uint64_t now, process_table& procs, std::uint64_t limit) noexcept {
    // Forget the workers that exited (or were told to stop) since they were asked.
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&procs](const pending_kill& p) {
                                      const auto& ws = procs.workers();
                                      return std::none_of(ws.begin(), ws.end(), [&p](const worker_proc& w) {
                                          return w.pid == p.pid && !w.stopping;
                                      });
                                  }),
                   pending_.end());
    for (auto& w : procs.workers()) {
        if (w.stopping) continue;
        auto pending =
            std::find_if(pending_.begin(), pending_.end(), [&w](const pending_kill& p) { return p.pid == w.pid; });
        if (pending != pending_.end()) {
            if (now < pending->at_ms) continue;
            pending_.erase(pending);
            FF_LOG_ERROR("worker %u (pid %d): killing it (its stack, if it could write one, is in the error log)",
                         w.index, static_cast<int>(w.pid));
            ::kill(w.pid, SIGKILL);
            w.ready = false;
            procs.slot(w).heartbeat_ms.store(now, std::memory_order_relaxed);
            continue;
        }
        std::uint64_t beat = procs.slot(w).heartbeat_ms.load(std::memory_order_relaxed);
        if (now > beat && now - beat > limit) {
            // A handler stuck in a loop blocks the worker's loop and its heartbeat: like
            // gunicorn's timeout, kill it; the reaper replaces it. First it tells where it is
            // stuck: the signal's handler writes the running fiber's stack and request.
            FF_LOG_ERROR(
                "worker %u (pid %d) missed its heartbeat for %llu ms: asking for its stack, killing it in "
                "%llu ms",
                w.index, static_cast<int>(w.pid), static_cast<unsigned long long>(now - beat),
                static_cast<unsigned long long>(backtrace_grace_ms));
            ::kill(w.pid, worker::backtrace_signal());
            pending_.push_back({w.pid, now + backtrace_grace_ms});
        }
    }
    // systemd's watchdog is fed only while every worker's heartbeat is fresh.
    if (notifier_.watchdog_usec() != 0 && now - last_watchdog_ms_ >= notifier_.watchdog_usec() / 2000) {
        bool fresh = !procs.empty();
        for (const auto& w : procs.workers()) {
            std::uint64_t beat = procs.slot(w).heartbeat_ms.load(std::memory_order_relaxed);
            if (!w.stopping && now > beat && now - beat > std::min<std::uint64_t>(limit, 5'000)) fresh = false;
        }
        if (fresh) {
            notifier_.watchdog();
            last_watchdog_ms_ = now;
        }
    }
}

void watchdog::update_status(std::uint64_t now,
                             process_table& procs,
                             const shm::segment_header& header,
                             unsigned worker_count,
                             std::uint64_t generation) noexcept {
    if (!notifier_.is_enabled() || now - last_status_ms_ < 1000) return;
    last_status_ms_ = now;
    unsigned ready = 0;
    for (const auto& w : procs.workers()) ready += w.ready && !w.stopping ? 1 : 0;
    std::uint64_t requests = shm::get(header.retired.requests);
    for (const auto& w : procs.workers()) requests += shm::get(procs.slot(w).counters.requests);
    char line[160];
    std::snprintf(line, sizeof line, "%u/%u worker%s ready, generation %llu, %llu request%s served", ready,
                  worker_count, shm::plural_s(worker_count), static_cast<unsigned long long>(generation),
                  static_cast<unsigned long long>(requests), shm::plural_s(requests));
    notifier_.status(line);
}

}  // namespace fastfork::master
