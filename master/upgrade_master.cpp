// The master's side of a binary upgrade (SIGUSR2, master/upgrade.hpp): as the old master, start
// the new one and either hand over (drain and exit) or keep serving and record why; as the new
// master, take the stats segment's header over once every worker is ready.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "master/inherited_sockets.hpp"
#include "master/master.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

namespace {

constexpr std::uint64_t exec_margin_ms = 2'000;  // exec and config parsing, on top of reload_timeout

std::string describe_exit(int status) {
    char buf[64];
    if (WIFEXITED(status))
        std::snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        std::snprintf(buf, sizeof buf, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        std::snprintf(buf, sizeof buf, "status 0x%x", status);
    return buf;
}

long pid_in_file(const std::string& path) {
    std::ifstream in(path);
    long pid = 0;
    in >> pid;
    return in ? pid : 0;
}

}  // namespace

// ---------------------------------------------------------------- start-up (either master)

int master_process::startup_failed(const std::string& why) noexcept {
    FF_LOG_ALERT("%s", why.c_str());
    report_to_old_master("error " + why);
    return 1;
}

void master_process::abandon_start(const std::string& why) noexcept {
    startup_failed(why);
    exit_code_ = 1;
    // A new master drains what its ready workers already accepted: the old master serves on.
    begin_shutdown(handover_.has_value());
}

bool master_process::write_pid_file() noexcept {
    if (cfg_.pid_file.empty()) return true;
    std::ofstream pf(cfg_.pid_file, std::ios::trunc);
    pf << pid_ << '\n';
    return static_cast<bool>(pf);
}

void master_process::remove_pid_file(const std::string& path) noexcept {
    // Only our own: after an upgrade the file names the other master.
    if (pid_in_file(path) == static_cast<long>(pid_)) ::unlink(path.c_str());
}

// ---------------------------------------------------------------- the old master

void master_process::begin_upgrade() noexcept {
    if (stopping_) return;
    finish_scale_down();  // a SIGTTOU's worker goes before the worker count is read
    if (upgrade_.active) {
        FF_LOG_WARN("SIGUSR2: an upgrade is already in progress (new master pid %d)", static_cast<int>(upgrade_.pid));
        return;
    }
    if (handover_ && !handover_->done) return;  // we are the new master, still starting
    auto refuse = [this](const std::string& why) {
        FF_LOG_ERROR("SIGUSR2: upgrade refused: %s", why.c_str());
        record_reload(false, "upgrade refused: " + why);
    };
    if (reload_.active || starting_) return refuse("a generation is still starting; try again when it is ready");
    if (handover_ && !handover_->old_gone) {
        handover_->next_check_ms = 0;  // it may have exited since the last tick's look
        watch_old_master(shm::monotonic_ms());
    }
    if (handover_ && !handover_->old_gone)
        return refuse("the previous master (pid " + std::to_string(handover_->old_master) + ") is still draining");
    const std::string binary = cfg_.upgrade_binary.empty() ? self_.exe : cfg_.upgrade_binary;
    if (binary.empty()) return refuse("cannot tell which binary runs (/proc/self/exe); set upgrade_binary");

    new_master_request req;
    req.binary = binary;
    req.argv = self_.argv;
    req.listen_fds = sockets_.all_fds();
    req.listen_fds_value = format_listen_fds(sockets_);
    req.old_master = pid_;
    req.name = name_;
    req.slots = procs_.lend_slots();
    if (tls_.ticket_keys_fd() >= 0) req.passed_fds.emplace_back(ticket_keys_env, tls_.ticket_keys_fd());
    // nginx's dance: the old master's pid file becomes <pid_file>.oldbin, the new master writes
    // the pid file; a failed upgrade moves it back.
    if (!cfg_.pid_file.empty() && ::rename(cfg_.pid_file.c_str(), oldbin_path(cfg_.pid_file).c_str()) != 0 &&
        errno != ENOENT)
        FF_LOG_WARN("rename(%s, %s) failed: %s", cfg_.pid_file.c_str(), oldbin_path(cfg_.pid_file).c_str(),
                    std::strerror(errno));
    notifier_.reloading();
    std::string error;
    int status_fd = -1;
    const pid_t pid = spawn_new_master(req, status_fd, error);
    upgrade_ = upgrade_state{};
    upgrade_.binary = binary;
    upgrade_.slots = std::move(req.slots);
    if (pid < 0) {
        upgrade_.active = true;  // fail_upgrade undoes what was done above
        fail_upgrade(error);
        return;
    }
    upgrade_.active = true;
    upgrade_.pid = pid;
    upgrade_.status_fd = status_fd;
    upgrade_.deadline_ms =
        shm::monotonic_ms() + static_cast<std::uint64_t>(cfg_.reload_timeout.count()) + exec_margin_ms;
    FF_LOG_INFO("SIGUSR2: upgrading: started %s as the new master (pid %d)", binary.c_str(), static_cast<int>(pid));
}

void master_process::progress_upgrade(std::uint64_t now) noexcept {
    if (upgrade_.ready) return;
    while (upgrade_.status_fd >= 0) {
        char buf[512];
        ssize_t n = ::read(upgrade_.status_fd, buf, sizeof buf);
        if (n > 0) {
            upgrade_.received.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {  // EOF: it exited, or exec'd something else
            ::close(upgrade_.status_fd);
            upgrade_.status_fd = -1;
        }
        break;
    }
    for (std::size_t nl; (nl = upgrade_.received.find('\n')) != std::string::npos;) {
        std::string line = upgrade_.received.substr(0, nl);
        upgrade_.received.erase(0, nl + 1);
        if (line == "ready" && upgrade_.failure.empty()) {
            commit_upgrade();
            return;
        }
        // The result is recorded once the new master has exited (fail_upgrade): by then the pid
        // file is back and the slots are ours again, so `fastforkctl upgrade` returns on a
        // settled state.
        if (line.rfind("error ", 0) == 0 && upgrade_.failure.empty()) {
            upgrade_.failure = line.substr(6);
            FF_LOG_ERROR("upgrade failing: %s; stopping the new master", upgrade_.failure.c_str());
        }
    }
    if (upgrade_.failure.empty() && now >= upgrade_.deadline_ms) {
        upgrade_.failure = "the new master (pid " + std::to_string(upgrade_.pid) + ", " + upgrade_.binary +
                           ") was not ready within reload_timeout";
        FF_LOG_ERROR("upgrade failing: %s; stopping the new master", upgrade_.failure.c_str());
    }
    if (!upgrade_.failure.empty()) {
        // Ask it to stop (a fastfork drains what it accepted); SIGKILL if it lingers.
        if (upgrade_.kill_at_ms == 0) {
            ::kill(upgrade_.pid, SIGTERM);
            upgrade_.kill_at_ms = now + static_cast<std::uint64_t>(cfg_.shutdown_timeout.count()) + exec_margin_ms;
        } else if (now >= upgrade_.kill_at_ms) {
            ::kill(upgrade_.pid, SIGKILL);
            upgrade_.kill_at_ms = UINT64_MAX;
        }
    }
}

void master_process::on_upgrade_exit(int status) noexcept {
    if (upgrade_.ready) {
        FF_LOG_WARN("the new master (pid %d) exited: %s", static_cast<int>(upgrade_.pid),
                    describe_exit(status).c_str());
        upgrade_ = upgrade_state{};
        return;
    }
    progress_upgrade(shm::monotonic_ms());  // a last "error …" line may still be in the pipe
    if (upgrade_.ready) return;
    fail_upgrade("the new master (pid " + std::to_string(upgrade_.pid) + ", " + upgrade_.binary + ") exited with " +
                 describe_exit(status) + " before it was ready");
}

void master_process::fail_upgrade(const std::string& why) noexcept {
    if (upgrade_.status_fd >= 0) ::close(upgrade_.status_fd);
    if (!cfg_.pid_file.empty() && ::rename(oldbin_path(cfg_.pid_file).c_str(), cfg_.pid_file.c_str()) != 0)
        FF_LOG_WARN("rename(%s, %s) failed: %s", oldbin_path(cfg_.pid_file).c_str(), cfg_.pid_file.c_str(),
                    std::strerror(errno));
    // The new master may have taken the header in its last moment (it reported ready while we
    // gave up): the header is ours again either way.
    auto& h = segment_.get()->header;
    h.master_pid.store(pid_);
    h.generation.store(generation_);
    h.workers.store(worker_count_);
    procs_.take_back(upgrade_.slots);
    // The new master's own reason (or the timeout) says more than how it exited.
    const std::string reason = upgrade_.failure.empty() ? why : upgrade_.failure;
    if (!upgrade_.failure.empty()) FF_LOG_INFO("upgrade: %s", why.c_str());
    FF_LOG_ERROR("upgrade failed, master %d keeps serving: %s", static_cast<int>(pid_), reason.c_str());
    record_reload(false, "upgrade failed, master " + std::to_string(pid_) + " keeps serving: " + reason);
    notifier_.ready();
    upgrade_ = upgrade_state{};
}

void master_process::commit_upgrade() noexcept {
    FF_LOG_INFO("upgrade: the new master (pid %d) is ready; draining generation %llu and exiting",
                static_cast<int>(upgrade_.pid), static_cast<unsigned long long>(generation_));
    upgrade_.ready = true;
    if (upgrade_.status_fd >= 0) ::close(upgrade_.status_fd);
    upgrade_.status_fd = -1;
    handed_over_ = true;
    // Under systemd we are still the unit's main process, the only one the default
    // NotifyAccess=main listens to: hand the role over ourselves, before we start to exit.
    char notify[64];
    std::snprintf(notify, sizeof notify, "MAINPID=%d\nREADY=1", static_cast<int>(upgrade_.pid));
    notifier_.notify(notify);
    begin_shutdown(true);
}

// ---------------------------------------------------------------- the new master

void master_process::complete_handover() noexcept {
    // The pipe first: once the old master reads "ready" it no longer gives up on us, so taking
    // the header after it cannot race with a rollback.
    report_to_old_master("ready");
    close_report_channel();
    auto& h = segment_.get()->header;
    h.master_pid.store(pid_);
    h.generation.store(generation_);
    h.workers.store(worker_count_);
    handover_->done = true;
    char msg[160];
    std::snprintf(msg, sizeof msg, "upgrade done: master %d serves generation %llu; master %ld drains and exits",
                  static_cast<int>(pid_), static_cast<unsigned long long>(generation_), handover_->old_master);
    FF_LOG_INFO("%s", msg);
    record_reload(true, msg);
    // Under systemd the old master has already named us MAINPID (commit_upgrade); saying it
    // again covers a unit with NotifyAccess=all, where our message may arrive first.
    char notify[64];
    std::snprintf(notify, sizeof notify, "MAINPID=%d\nREADY=1", static_cast<int>(pid_));
    notifier_.notify(notify);
}

void master_process::watch_old_master(std::uint64_t now) noexcept {
    if (!handover_->done || handover_->old_gone || now < handover_->next_check_ms) return;
    handover_->next_check_ms = now + 500;
    std::string why;
    if (segment_.is_master(handover_->old_master, why)) return;
    handover_->old_gone = true;
    procs_.adopt_free_slots();  // its workers' slots, folded and emptied by it
    FF_LOG_INFO("the previous master (pid %ld) has exited", handover_->old_master);
}

}  // namespace fastfork::master
