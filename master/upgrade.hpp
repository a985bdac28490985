#pragma once
// Binary upgrade (master), nginx's executable upgrade made safe: on SIGUSR2 the master forks and
// execs its binary (or `upgrade_binary`) with the listening sockets inherited and the stats
// segment handed over; the new master starts its workers on the same sockets, and only when all
// are ready does the old master drain its own and exit. Until then any failure leaves the old
// master serving, with the reason recorded where `fastforkctl reload|upgrade` read it.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fastfork::master {

/// Set by the old master for the new one: "OLD_PID:STATUS_FD:NAME:SLOTS". STATUS_FD is the write
/// end of a pipe the new master reports on ("ready" or "error REASON", one line); SLOTS the
/// stats slots lent to it ("a-b,c"), so the two masters never take the same slot.
inline constexpr const char* upgrade_env = "FASTFORK_UPGRADE";
/// The session-ticket key ring's descriptor (master/tls_runtime.hpp), handed to the new master.
inline constexpr const char* ticket_keys_env = "FASTFORK_TLS_TICKET_KEYS_FD";

/// The old master's side of an upgrade in progress.
struct upgrade_state {
    bool active = false;
    pid_t pid = 0;         // the new master, our child
    int status_fd = -1;    // read end of its status pipe (non-blocking)
    std::string received;  // what it has written so far
    std::string binary;
    std::vector<unsigned> slots;    // lent to it; taken back once it has exited
    std::uint64_t deadline_ms = 0;  // monotonic: not ready by then, give up
    std::uint64_t kill_at_ms = 0;   // given up: SIGKILL it then if it has not exited
    std::string failure;            // why it failed; recorded when it has exited
    bool ready = false;             // it reported ready: it serves now
};

/// The new master's side, read from upgrade_env at start.
struct handover {
    long old_master = 0;
    std::string name;
    std::vector<unsigned> slots;
    bool done = false;      // reported ready and took the segment's header over
    bool old_gone = false;  // the old master has exited; its slots are free for us
    std::uint64_t next_check_ms = 0;
};

/// Reads and unsets upgrade_env. nullopt when this process is not a new master of an upgrade;
/// `error` set when the variable is malformed. Keeps the status pipe for report_to_old_master.
[[nodiscard]] std::optional<handover> take_handover(std::string& error);

/// Writes one status line ("ready", "error REASON") to the old master, when this process is the
/// new master of an upgrade (even before take_handover, so main() can report a config error).
void report_to_old_master(std::string_view line) noexcept;
/// Closes the status pipe: nothing more to say.
void close_report_channel() noexcept;

/// The running binary (/proc/self/exe) and arguments (/proc/self/cmdline), read at start: once the
/// file has been replaced, /proc/self/exe names "PATH (deleted)".
struct own_command {
    std::string exe;
    std::vector<std::string> argv;
};
[[nodiscard]] own_command read_own_command();

struct new_master_request {
    std::string binary;
    std::vector<std::string> argv;
    std::vector<int> listen_fds;   // inherited across exec (FD_CLOEXEC cleared in the child)
    std::string listen_fds_value;  // FASTFORK_LISTEN_FDS
    long old_master = 0;
    std::string name;
    std::vector<unsigned> slots;
    /// More descriptors the new master inherits, each named by an environment variable
    /// (NAME=fd): the session-ticket key ring (master/tls_runtime.hpp).
    std::vector<std::pair<std::string, int>> passed_fds;
};

/// Forks and execs the new master. Returns its pid and the read end of its status pipe in
/// `status_fd`, or -1 with `error` set. An exec that fails is reported on the pipe.
[[nodiscard]] pid_t spawn_new_master(const new_master_request& req, int& status_fd, std::string& error);

/// "3-7,9": slot numbers as ranges, and back (false on malformed text).
[[nodiscard]] std::string format_slots(std::vector<unsigned> slots);
[[nodiscard]] bool parse_slots(std::string_view text, std::vector<unsigned>& out);

/// The pid file after an upgrade or a failed one: `<pid_file>.oldbin`.
[[nodiscard]] inline std::string oldbin_path(const std::string& pid_file) {
    return pid_file + ".oldbin";
}

}  // namespace fastfork::master
