#pragma once
// Reuseport steering (master): the kernel hashes each new connection to one socket of an
// address's SO_REUSEPORT group, and a worker that is stopped or stuck leaves its share waiting
// in its socket until worker_timeout replaces it. A small SK_REUSEPORT BPF program attached to
// each group picks the socket from a list of healthy worker indexes the master rewrites, so new
// connections go to the workers whose heartbeat is fresh, and back when a late one recovers.
// Without bpf(2) (no privilege, old kernel) it warns once and the kernel's hash decides, as before.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "master/listen_sockets.hpp"
#include "master/process_table.hpp"

namespace fastfork::master {

/// A worker index is steered away from once its heartbeat is this late: three periods of the
/// worker's sweep timer (at most 250 ms, worker/server.cpp), which writes the heartbeat.
inline constexpr std::uint64_t steering_late_ms = 750;

class reuseport_steering {
public:
    reuseport_steering() = default;
    ~reuseport_steering() { close_all(); }
    reuseport_steering(const reuseport_steering&) = delete;
    reuseport_steering& operator=(const reuseport_steering&) = delete;

    /// Called from the master's tick: with `enabled`, keeps a program attached to every reuseport
    /// group of `sockets` and the healthy list in line with `procs` (indexes below
    /// `worker_count`); without, lets the kernel's hash decide again.
    void update(std::uint64_t now,
                process_table& procs,
                const listen_sockets& sockets,
                unsigned worker_count,
                bool enabled) noexcept;

    /// False once setting up failed (the warning is logged).
    [[nodiscard]] bool available() const noexcept { return !failed_; }

private:
    struct group {
        int sockarray_fd = -1;               // worker index → socket
        int prog_fd = -1;                    // the SK_REUSEPORT program reading it
        std::vector<std::uint64_t> cookies;  // SO_COOKIE of the socket stored at each index, 0 = none
        std::uint64_t attached_cookie = 0;   // the socket the program was attached through
        bool warned = false;
    };

    bool set_up() noexcept;
    bool sync_group(const std::string& address, const std::vector<int>& fds) noexcept;
    void write_healthy(const std::vector<unsigned>& healthy) noexcept;
    void close_all() noexcept;

    bool tried_ = false;
    bool failed_ = false;
    int list_fd_ = -1;                     // ARRAY, one element: {count, index...}
    std::map<std::string, group> groups_;  // by listen address
    std::vector<unsigned> healthy_;        // as last written
    std::vector<bool> late_;               // per index: steered away for a late heartbeat (logged)
    bool written_ = false;
};

}  // namespace fastfork::master
