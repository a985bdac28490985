#pragma once
// Whom the workers run as (master resolves, the forked worker drops): like nginx's `user`, the
// master keeps root to bind and open what needs it, and each worker gives it up for good
// (setgroups/initgroups, setgid, setuid, then checks that root cannot be regained) before it
// runs any handler code.

#include <sys/types.h>

#include <string>

#include "master/config.hpp"

namespace fastfork::master {

struct worker_identity {
    bool drop = false;  // switch to uid/gid in the worker (the master is root and `user` says so)
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;  // the name, for initgroups and messages
};

/// Resolves `cfg.user` / `cfg.group` (names, or numeric ids) for a master running with
/// effective uid `master_euid`. Returns an error naming the key ("key \"user\": no such user
/// \"x\"") or one when a non-root master is asked to switch users; empty on success.
[[nodiscard]] std::string resolve_worker_identity(const config& cfg, uid_t master_euid, worker_identity& out);

/// In a freshly forked worker: supplementary groups, gid, uid, in that order, then checks that
/// the ids took and that setuid(0) fails. Keeps the process dumpable, so that /proc/self stays
/// readable to it (the file server resolves paths there). Returns the failing call and errno.
[[nodiscard]] std::string drop_privileges(const worker_identity& id) noexcept;

/// Creates `path` if needed (mode 0644, append) and gives it to the workers' user, so that a
/// worker can open or reopen it after dropping privileges. No-op unless `id.drop`. Returns an
/// error naming the call, empty on success.
[[nodiscard]] std::string hand_over_file(const std::string& path, const worker_identity& id);

}  // namespace fastfork::master
