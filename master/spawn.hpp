#pragma once
// Forking one worker process safely (master): all signals blocked across fork; in the child,
// default dispositions, only its own descriptors kept, parent-death signal, then the worker's
// fresh loop runs the handler (DESIGN.md "Forking safely").

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "master/config.hpp"
#include "master/fastfork.hpp"
#include "master/privileges.hpp"
#include "shm/layout.hpp"
#include "tls/server_context.hpp"

namespace fastfork::master {

/// Exit status of a worker that cannot start at all (bad listener, failed worker_init): the
/// master reports it instead of respawning in a tight loop.
inline constexpr int worker_fatal_exit = 3;

/// Runs once in each worker after fork, before it serves; throwing makes the worker exit with
/// worker_fatal_exit (an application's per-process set-up: connections, caches).
using worker_init = std::function<void()>;

struct spawn_request {
    unsigned index = 0;  // worker slot: whose listening sockets it serves
    std::uint64_t generation = 0;
    std::vector<int> listen_fds;  // this slot's sockets, one per listen address
    /// TLS of each of listen_fds (same order): null for a plain listener. Owned by the master's
    /// generation, built before fork (tls/server_context.hpp); the child keeps its copy.
    std::vector<const tls::server_context*> listen_tls;
    shm::worker_slot* slot = nullptr;  // its stats slot (already reset by the caller)
    shm::slot_note* note = nullptr;    // the slot's note: why the worker could not start, if it cannot
    const config* cfg = nullptr;
    const Handler* handler = nullptr;
    const worker_init* init = nullptr;
    int cpu = -1;  // pin to this CPU, or -1
    pid_t master_pid = 0;
    int log_fd = -1;  // the error log file, kept open (-1 = stderr)
    /// Whom the worker becomes right after fork, before it runs anything of the application.
    const worker_identity* identity = nullptr;
    /// The master's signal watchers. libuv keeps every process's uv_signal_t in one global tree
    /// that fork copies: the child must stop the master's entries, or its own uv_signal_start
    /// finds them, skips installing the handler, and SIGTERM kills it instead of draining.
    std::vector<uv_signal_t*> parent_signals;
};

/// Forks a worker for `req`. Returns the child's pid in the master, or -errno when fork failed.
/// Never returns in the child.
[[nodiscard]] pid_t spawn_worker(const spawn_request& req);

}  // namespace fastfork::master
