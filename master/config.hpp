#pragma once
// The server's configuration (master): defaults, the JSON file, and command-line flags, all
// through one table of settings so that every key has one name, one parser and one doc line.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "handlers/options.hpp"
#include "tls/options.hpp"
#include "worker/options.hpp"

namespace fastfork::master {

struct config {
    std::vector<std::string> listen{"0.0.0.0:8080"};  // one or more "host:port"
    unsigned workers = 0;                             // 0 = one per online CPU ("auto")
    bool cpu_affinity = false;                        // pin worker slot i to CPU i mod N
    bool single_process = false;                      // serve in this process, no master (nginx: master_process off)
    std::string name;                                 // shm segment /fastfork.<name>; default "<first port>"
    std::string user;                                 // workers' user (nginx `user`); empty = the master's
    std::string group;                                // workers' group; empty = the user's primary group
    std::string pid_file;                             // empty = none
    std::string upgrade_binary;                       // SIGUSR2 execs this; empty = the running binary
    std::string error_log;                            // empty = stderr
    std::string log_level = "info";
    int backlog = 4096;
    worker::millis shutdown_timeout{30'000};  // graceful shutdown/drain deadline
    worker::millis worker_timeout{30'000};    // heartbeat stall before SIGKILL
    bool reuseport_steering = true;           // steer new connections away from late workers (BPF)
    worker::millis reload_timeout{30'000};    // new generation must be ready within this
    // Worker recycling (master/recycling.cpp); 0 = off for each.
    std::uint64_t max_requests = 0;         // requests one worker process serves, then it is replaced
    std::uint64_t max_requests_jitter = 0;  // per process, a random limit in [max_requests, + this]
    std::uint64_t max_worker_memory = 0;    // resident bytes (RSS) of one worker, then it is replaced
    worker::millis max_worker_age{0};       // age of one worker process, then it is replaced
    worker::options worker;                 // per-worker settings of the runtime
    handlers::options handlers;             // per-worker settings of the features (routes, files, gzip, log)

    /// TLS of each listen address (same order), nullopt = plain; empty = every address plain.
    std::vector<std::optional<tls::listener_options>> listen_tls;
    /// The top-level "tls" object: ticket keys, session cache.
    tls::server_options tls;

    std::string source;  // the file it was read from, for messages and reloads; empty = none
};

/// A failed setting: which key, where, and why ("config.json:3:14: key "workers": expected …").
struct config_error {
    std::string message;
};

/// One documented setting. `parse` reads a textual value (from a flag, or a JSON scalar).
struct setting {
    std::string_view key;   // JSON key and, with dashes, the flag: header_timeout ↔ --header-timeout
    std::string_view kind;  // "duration", "size", "count", "string", "bool", "list", "auto|count", "json"
                            // ("json": any JSON value; parse gets its text, a flag passes it as is)
    /// The setting's value in `cfg`, spelled as the config file would ("30s", "64KiB", true). The
    /// defaults --help prints are show(config{}): read from the structs, never restated.
    std::string (*show)(const config& cfg);
    std::string_view doc;
    /// Applies `value`; returns an error reason (empty on success).
    std::string (*parse)(config& cfg, std::string_view value);
};

/// The "keys" part of --help: one line per setting with its key, its value in `values` (the
/// defaults of a default-constructed config unless told otherwise) and its doc.
[[nodiscard]] std::string describe_settings(const config& values = config{});

/// Every setting, in documentation order.
[[nodiscard]] const std::vector<setting>& settings();
[[nodiscard]] const setting* find_setting(std::string_view key) noexcept;
/// The known key closest to `key` (edit distance), for "did you mean" messages; empty if none is close.
[[nodiscard]] std::string suggest_key(std::string_view key);

/// Applies `value` to `key`; an unknown key or a bad value gives a message naming the key.
[[nodiscard]] std::optional<config_error> apply_setting(config& cfg, std::string_view key, std::string_view value);

/// Checks relations between settings (limits, at least one listen address, a user/group this
/// process can switch the workers to); nullopt when valid.
[[nodiscard]] std::optional<config_error> validate(const config& cfg);

/// The worker count that `cfg.workers` means (resolving 0 = auto).
[[nodiscard]] unsigned resolved_workers(const config& cfg) noexcept;

/// Command-line settings, re-applied over the file on every reload (flags override the file).
using overrides = std::vector<std::pair<std::string, std::string>>;

/// Defaults, then the file (when `path` is not empty), then `flags`; validated.
[[nodiscard]] std::optional<config_error> build_config(const std::string& path, const overrides& flags, config& out);

/// The instance name a config implies: its `name`, or the first listen port.
[[nodiscard]] std::string instance_name(const config& cfg);

/// Makes `cfg.log_level` the error log's level in this process (master, worker or single process).
void apply_log_level(const config& cfg) noexcept;

}  // namespace fastfork::master
