// Worker recycling (master), gunicorn's max_requests without its lost capacity: a worker past
// max_requests (+ its jitter), max_worker_memory or max_worker_age gets a replacement on the
// same worker index first; only once the replacement is ready does the old process drain. Both
// accept on the index's sockets meanwhile (the master holds one socket per index, and a socket
// may have any number of accepting processes), so nothing queued is lost and the number of
// ready workers never drops below the configured count. One index at a time.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "master/master.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

namespace {
constexpr std::uint64_t memory_check_ms = 250;  // how often the workers' RSS is read
constexpr std::uint64_t retry_after_failure_ms = 5'000;

/// Resident bytes of `pid` from /proc/PID/statm (its second field, in pages); 0 when unreadable.
std::uint64_t resident_bytes(pid_t pid) noexcept {
    char path[40];
    std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    char* end = nullptr;
    std::strtoull(buf, &end, 10);  // size
    const unsigned long long pages = std::strtoull(end, nullptr, 10);
    const long page = ::sysconf(_SC_PAGESIZE);
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page > 0 ? page : 4096);
}

worker_proc* find_worker(process_table& procs, pid_t pid) noexcept {
    for (auto& w : procs.workers())
        if (w.pid == pid) return &w;
    return nullptr;
}
}  // namespace

bool master_process::is_recycle_due(worker_proc& w, std::uint64_t now, bool check_memory) noexcept {
    if (cfg_.max_requests != 0) {
        if (w.request_limit == 0) {
            const std::uint64_t jitter = cfg_.max_requests_jitter;
            w.request_limit = cfg_.max_requests + (jitter == 0 ? 0 : recycle_.rng() % (jitter + 1));
        }
        const std::uint64_t served = shm::get(procs_.slot(w).counters.requests);
        if (served >= w.request_limit) {
            recycle_.reason = shm::recycle_reason::requests;
            recycle_.why =
                std::to_string(served) + " requests served (its limit: " + std::to_string(w.request_limit) + ")";
            return true;
        }
    }
    if (check_memory) {
        const std::uint64_t rss = resident_bytes(w.pid);
        if (rss >= cfg_.max_worker_memory) {
            recycle_.reason = shm::recycle_reason::memory;
            recycle_.why = std::to_string(rss >> 10) + " KiB resident (max_worker_memory " +
                           std::to_string(cfg_.max_worker_memory >> 10) + " KiB)";
            return true;
        }
    }
    const auto max_age = static_cast<std::uint64_t>(cfg_.max_worker_age.count());
    if (max_age != 0 && now - w.started_ms >= max_age) {
        recycle_.reason = shm::recycle_reason::age;
        recycle_.why =
            std::to_string(now - w.started_ms) + " ms old (max_worker_age " + std::to_string(max_age) + " ms)";
        return true;
    }
    return false;
}

void master_process::progress_recycling(std::uint64_t now) noexcept {
    if (recycle_.is_active()) {
        worker_proc* fresh = find_worker(procs_, recycle_.replacement_pid);
        worker_proc* old = find_worker(procs_, recycle_.old_pid);
        // A reload, a scale-down or the old worker's own exit overtook the recycle: nothing is
        // left to hand over (the replacement, if it lives, is simply the index's worker now).
        if (!fresh || fresh->stopping || !old || old->stopping) {
            recycle_.clear();
            return;
        }
        if (fresh->ready) {
            procs_.stop(*old, SIGTERM);  // drains; its socket stays open here, and fresh accepts on it
            segment_.get()->events.recycles[static_cast<std::size_t>(recycle_.reason)].fetch_add(
                1, std::memory_order_relaxed);
            FF_LOG_INFO("recycled worker %u (max_%s): pid %d drains, pid %d serves", recycle_.index,
                        recycle_.reason == shm::recycle_reason::requests ? "requests"
                        : recycle_.reason == shm::recycle_reason::memory ? "worker_memory"
                                                                         : "worker_age",
                        static_cast<int>(old->pid), static_cast<int>(fresh->pid));
            recycle_.clear();
            return;
        }
        if (now >= recycle_.deadline_ms) {
            FF_LOG_ERROR(
                "recycling worker %u: its replacement (pid %d) was not ready within reload_timeout; "
                "pid %d keeps serving",
                recycle_.index, static_cast<int>(fresh->pid), static_cast<int>(old->pid));
            procs_.stop(*fresh, SIGKILL);
            recycle_.retry_at_ms = now + retry_after_failure_ms;
            recycle_.clear();
        }
        return;
    }
    if (cfg_.max_requests == 0 && cfg_.max_worker_memory == 0 && cfg_.max_worker_age.count() == 0) return;
    if (now < recycle_.retry_at_ms) return;
    const bool check_memory = cfg_.max_worker_memory != 0 && now >= recycle_.next_memory_check_ms;
    if (check_memory) recycle_.next_memory_check_ms = now + memory_check_ms;
    for (auto& w : procs_.workers()) {
        if (w.generation != generation_ || w.stopping || !w.ready || w.index >= worker_count_) continue;
        if (!is_recycle_due(w, now, check_memory)) continue;
        // start_worker appends to the table: `w` is not valid after it.
        const pid_t old_pid = w.pid;
        const unsigned index = w.index;
        FF_LOG_INFO("recycling worker %u (pid %d): %s; starting its replacement", index, static_cast<int>(old_pid),
                    recycle_.why.c_str());
        if (!start_worker(index, generation_, cfg_)) {
            recycle_.retry_at_ms = now + retry_after_failure_ms;
            recycle_.clear();
            return;
        }
        recycle_.old_pid = old_pid;
        recycle_.replacement_pid = procs_.workers().back().pid;
        recycle_.index = index;
        recycle_.deadline_ms = now + static_cast<std::uint64_t>(cfg_.reload_timeout.count());
        return;
    }
}

bool master_process::on_recycle_exit(const worker_proc& w, int status, const std::string& reason) noexcept {
    if (!recycle_.is_active() || w.stopping) return false;
    if (w.pid == recycle_.replacement_pid) {
        FF_LOG_ERROR(
            "recycling worker %u: its replacement (pid %d) exited before it was ready (%s%s%s); pid %d "
            "keeps serving, next try in %llu ms",
            w.index, static_cast<int>(w.pid), describe_status(status).c_str(), reason.empty() ? "" : ": ",
            reason.c_str(), static_cast<int>(recycle_.old_pid),
            static_cast<unsigned long long>(retry_after_failure_ms));
        recycle_.retry_at_ms = shm::monotonic_ms() + retry_after_failure_ms;
        recycle_.clear();
        return true;
    }
    if (w.pid == recycle_.old_pid) {
        // The replacement is already starting on the same index: it takes over, no respawn.
        FF_LOG_ERROR(
            "worker %u (pid %d) exited unexpectedly while being recycled: %s; its replacement (pid %d) "
            "takes over",
            w.index, static_cast<int>(w.pid), describe_status(status).c_str(),
            static_cast<int>(recycle_.replacement_pid));
        recycle_.clear();
        return true;
    }
    return false;
}

}  // namespace fastfork::master
