#pragma once
// The master process's cycle (master), nginx's ngx_master_process_cycle on a libuv loop: signals,
// reaping, respawn with backoff, scaling, graceful shutdown. The parts it drives live in their
// own files: listen_sockets, process_table, reload (the SIGHUP state machine), upgrade_master
// (SIGUSR2, the binary upgrade) and watchdog.
// Never touches a request.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "master/config.hpp"
#include "master/fastfork.hpp"
#include "master/listen_sockets.hpp"
#include "master/process_table.hpp"
#include "master/recycle_state.hpp"
#include "master/reload_state.hpp"
#include "master/reuseport_steering.hpp"
#include "master/scale_down.hpp"
#include "master/sd_notify.hpp"
#include "master/spawn.hpp"
#include "master/tls_runtime.hpp"
#include "master/upgrade.hpp"
#include "master/watchdog.hpp"
#include "shm/segment.hpp"

namespace fastfork::master {

/// A wait status as the log shows it: "exit status 3", "signal 9 (Killed)".
[[nodiscard]] std::string describe_status(int status);

class master_process {
public:
    master_process(config cfg, overrides flags, Handler handler, worker_init init);
    ~master_process();
    master_process(const master_process&) = delete;
    master_process& operator=(const master_process&) = delete;

    /// Starts the workers and supervises them until shutdown. Returns the exit status: 0 after a
    /// graceful shutdown, 1 when start-up failed (the message is logged).
    int run();

private:
    struct index_state {
        std::uint64_t restarts = 0;
        std::vector<std::uint64_t> recent_exits;  // unexpected exits inside the crash window
        std::uint64_t respawn_at_ms = 0;          // 0 = nothing pending
    };

    static void on_signal(uv_signal_t* handle, int signum) noexcept;
    static void on_tick(uv_timer_t* timer) noexcept;

    bool start_worker(unsigned index, std::uint64_t generation, const config& cfg);
    void reap_children() noexcept;
    void on_worker_exit(worker_proc w, int status) noexcept;
    void tick() noexcept;
    void begin_reload() noexcept;
    void progress_reload(std::uint64_t now) noexcept;
    void commit_reload() noexcept;
    void rollback_reload(const std::string& why) noexcept;
    void record_reload(bool ok, const std::string& message) noexcept;
    void begin_upgrade() noexcept;
    void progress_upgrade(std::uint64_t now) noexcept;
    void on_upgrade_exit(int status) noexcept;
    void fail_upgrade(const std::string& why) noexcept;
    void commit_upgrade() noexcept;
    void complete_handover() noexcept;
    void watch_old_master(std::uint64_t now) noexcept;
    /// Start-up failed: logs `why`, tells the old master of an upgrade, returns 1.
    int startup_failed(const std::string& why) noexcept;
    /// The first generation cannot get ready: startup_failed, then an immediate shutdown.
    void abandon_start(const std::string& why) noexcept;
    /// Whether this master writes the segment's header (master_pid, generation, stopping): not a
    /// new master before its hand-over, nor an old one after it.
    [[nodiscard]] bool owns_header() const noexcept { return !handed_over_ && (!handover_ || handover_->done); }
    [[nodiscard]] bool write_pid_file() noexcept;
    void remove_pid_file(const std::string& path) noexcept;
    void begin_shutdown(bool graceful) noexcept;
    // Worker recycling (master/recycling.cpp).
    void progress_recycling(std::uint64_t now) noexcept;
    [[nodiscard]] bool is_recycle_due(worker_proc& w, std::uint64_t now, bool check_memory) noexcept;
    /// Handles the exit of a worker that a recycle in progress involves; false: not one of those.
    [[nodiscard]] bool on_recycle_exit(const worker_proc& w, int status, const std::string& reason) noexcept;
    void signal_generation(std::uint64_t generation, int sig, bool exact) noexcept;
    void add_worker() noexcept;
    void remove_worker() noexcept;  // master/scale_down.cpp
    void progress_scale_down(std::uint64_t now) noexcept;
    /// Stops the worker a SIGTTOU removes and closes its socket, if that is still pending.
    void finish_scale_down() noexcept;
    void reopen_logs() noexcept;
    void hand_over_logs(const config& cfg) noexcept;
    [[nodiscard]] bool all_ready(std::uint64_t generation) const noexcept;

    config cfg_;
    overrides flags_;
    Handler handler_;
    worker_init init_;
    uv_loop_t loop_{};
    uv_timer_t tick_{};
    std::vector<std::unique_ptr<uv_signal_t>> signals_;
    shm::segment segment_;
    sd_notifier notifier_;
    watchdog watchdog_{notifier_};
    std::string name_;
    pid_t pid_ = 0;
    unsigned worker_count_ = 0;     // configured now (SIGTTIN/SIGTTOU change it)
    std::uint64_t generation_ = 1;  // the serving generation
    listen_sockets sockets_;
    tls_runtime tls_;              // ticket keys (rotated here) and each generation's TLS contexts
    reuseport_steering steering_;  // which worker index new connections go to
    scale_down_state scale_down_;  // a SIGTTOU's worker, steered away from before it stops
    process_table procs_;
    std::vector<index_state> indexes_;
    reload_state reload_;
    recycle_state recycle_;
    own_command self_;                  // binary and argv, read at start: what SIGUSR2 re-executes
    upgrade_state upgrade_;             // old master: the new master being started
    std::optional<handover> handover_;  // new master: the upgrade that started us
    bool handed_over_ = false;          // old master: the new one serves; we drain and exit
    bool reload_again_ = false;
    bool starting_ = true;  // the first generation is not ready yet
    bool stopping_ = false;
    bool forced_ = false;
    int exit_code_ = 0;
    std::uint64_t shutdown_deadline_ms_ = 0;
    std::uint64_t start_deadline_ms_ = 0;
};

}  // namespace fastfork::master
