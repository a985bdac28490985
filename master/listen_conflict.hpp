#pragma once
// Refusing to share a port (master, and the single-process server): SO_REUSEPORT lets any
// socket of the same user join a listen group, so a second instance on a busy address would
// silently take a share of the first one's connections. Before the first socket of an address
// is bound, this checks that nothing but our own sockets listens there.

#include <string>
#include <vector>

#include "worker/listener.hpp"

namespace fastfork::master {

/// Empty when nothing other than the sockets `own_fds` listens on `a` or on an overlapping
/// address (0.0.0.0:P overlaps 127.0.0.1:P, and the reverse). Otherwise the reason, naming the
/// holder when it can be found: `Address already in use by fastfork instance "api" (master pid
/// 42); stop it first: fastforkctl --name api stop (or kill -TERM 42)`, or `… by pid 7 (python3)`.
/// Binds only a probe socket without SO_REUSEPORT, which can never join a group.
[[nodiscard]] std::string find_listen_conflict(const worker::listen_address& a, const std::vector<int>& own_fds);

}  // namespace fastfork::master
