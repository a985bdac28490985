#pragma once
// The fastforkctl commands (fastforkctl): each reads the instance's stats segment read-only,
// and the control commands signal its master. Return values are the process exit codes.

#include <csignal>
#include <cstdint>
#include <string>

namespace fastfork::tools {

/// Exit codes of fastforkctl.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // the instance is missing/stale/incompatible, or the action failed
inline constexpr int exit_usage = 2;    // bad command line

enum class stats_format { table, json, prometheus };

struct stats_options {
    stats_format format = stats_format::table;
    double watch_s = 0;       // > 0: refresh every watch_s seconds (like top)
    std::uint64_t count = 0;  // with watch: stop after this many refreshes; 0 = until SIGINT
};

/// `list`: every instance with its master pid and alive/stale.
int run_list();
/// `stats`: the table, --json or --prometheus; --watch refreshes with per-interval rates.
int run_stats(const std::string& name, const stats_options& opts);
/// `status`: master, uptime, generation, last reload, workers. 1 when the instance is stale.
int run_status(const std::string& name);
/// `reload`: SIGHUP, then wait up to `timeout_s` for reload_count to grow; 0 iff reload_ok == 1.
/// timeout_s == 0: do not wait; 0 once the signal is sent (saying that it did not wait).
int run_reload(const std::string& name, double timeout_s);
/// `upgrade`: SIGUSR2 (binary upgrade), then wait up to `timeout_s` for its result, recorded
/// like a reload's: 0 when the new master serves (its pid is printed), 1 with the reason when
/// the old master kept serving.
int run_upgrade(const std::string& name, double timeout_s);
/// `stop`, `quit`, `reopen`, `add-worker`, `remove-worker`: sends `sig` to the master. With
/// wait_s > 0 (stop, quit), then waits up to wait_s for the master to exit: 1 if it has not.
/// Every control command signals only a pid that provably is a master of the segment
/// (segment::is_master), never just the pid written in it.
int run_signal(const std::string& name, int sig, const char* what, double wait_s = 0);

}  // namespace fastfork::tools
