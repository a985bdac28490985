#pragma once
// The master process (master): owns the listening sockets and the stats segment, forks and
// supervises the workers on its own libuv loop (signals, reaping, respawn with backoff,
// heartbeat watchdog, graceful reload with rollback, graceful shutdown). Never touches a request.

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "master/config.hpp"
#include "master/fastfork.hpp"
#include "master/sd_notify.hpp"
#include "master/spawn.hpp"
#include "shm/segment.hpp"

namespace fastfork::master {

/// Command-line settings, re-applied over the file on every reload (flags override the file).
using overrides = std::vector<std::pair<std::string, std::string>>;

/// Defaults, then the file (when `path` is not empty), then `flags`; validated.
[[nodiscard]] std::optional<config_error> build_config(const std::string& path, const overrides& flags, config& out);

/// The instance name a config implies: its `name`, or the first listen port.
[[nodiscard]] std::string instance_name(const config& cfg);

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
    struct worker_proc {
        pid_t pid = 0;
        unsigned index = 0;
        std::uint64_t generation = 0;
        unsigned slot = 0;      // stats slot in shm
        bool stopping = false;  // we told it to stop: its exit is expected
        bool ready = false;
        std::uint64_t started_ms = 0;
    };
    struct index_state {
        std::uint64_t restarts = 0;
        std::vector<std::uint64_t> recent_exits;  // unexpected exits inside the crash window
        std::uint64_t respawn_at_ms = 0;          // 0 = nothing pending
    };
    struct reload_state {
        bool active = false;
        std::uint64_t generation = 0;
        std::uint64_t deadline_ms = 0;
        config next;
        std::vector<std::string> new_addresses;  // opened for this reload; closed on rollback
    };

    static void on_signal(uv_signal_t* handle, int signum) noexcept;
    static void on_tick(uv_timer_t* timer) noexcept;

    bool open_sockets(const std::vector<std::string>& addresses, unsigned count, std::string& error);
    std::vector<int> fds_for(const config& cfg, unsigned index) const;
    bool start_worker(unsigned index, std::uint64_t generation, const config& cfg);
    std::optional<unsigned> take_slot() noexcept;
    void release_slot(unsigned slot) noexcept;
    void reap_children() noexcept;
    void on_worker_exit(worker_proc w, int status) noexcept;
    void tick() noexcept;
    void check_heartbeats(std::uint64_t now) noexcept;
    void begin_reload() noexcept;
    void progress_reload(std::uint64_t now) noexcept;
    void commit_reload() noexcept;
    void rollback_reload(const std::string& why) noexcept;
    void record_reload(bool ok, const std::string& message) noexcept;
    void begin_shutdown(bool graceful) noexcept;
    void signal_generation(std::uint64_t generation, int sig, bool exact) noexcept;
    void add_worker() noexcept;
    void remove_worker() noexcept;
    void reopen_logs() noexcept;
    void close_unused_sockets() noexcept;
    void update_status(std::uint64_t now) noexcept;
    [[nodiscard]] std::size_t live_workers() const noexcept { return workers_.size(); }
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
    std::string name_;
    pid_t pid_ = 0;
    unsigned worker_count_ = 0;                        // configured now (SIGTTIN/SIGTTOU change it)
    std::uint64_t generation_ = 1;                     // the serving generation
    std::map<std::string, std::vector<int>> sockets_;  // address → fd per worker index
    std::vector<worker_proc> workers_;
    std::vector<index_state> indexes_;
    std::vector<unsigned> free_slots_;
    reload_state reload_;
    bool reload_again_ = false;
    bool starting_ = true;  // the first generation is not ready yet
    bool stopping_ = false;
    bool forced_ = false;
    int exit_code_ = 0;
    std::uint64_t shutdown_deadline_ms_ = 0;
    std::uint64_t start_deadline_ms_ = 0;
    std::uint64_t last_status_ms_ = 0;
    std::uint64_t last_watchdog_ms_ = 0;
};

}  // namespace fastfork::master
