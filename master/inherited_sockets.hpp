#pragma once
// Listening sockets a master starts with instead of binding them (master): the ones the old
// master hands over in a binary upgrade (FASTFORK_LISTEN_FDS), or systemd socket activation
// (LISTEN_FDS / LISTEN_PID). Matched to the configured `listen` addresses by getsockname.

#include <string>
#include <vector>

#include "master/listen_sockets.hpp"

namespace fastfork::master {

/// "FD:ADDRESS;FD:ADDRESS;…": the sockets handed to a new master, ADDRESS spelled as in `listen`
/// ("3:127.0.0.1:8080;4:127.0.0.1:8080;5:[::]:8080"), each address's in worker-index order.
inline constexpr const char* listen_fds_env = "FASTFORK_LISTEN_FDS";

/// The FASTFORK_LISTEN_FDS value for `sockets` (what an upgrade passes on).
[[nodiscard]] std::string format_listen_fds(const listen_sockets& sockets);

/// Adopts the sockets this process was started with into `sockets`: FASTFORK_LISTEN_FDS when set,
/// else LISTEN_FDS descriptors from 3 on when LISTEN_PID is this process. Each must be a
/// listening TCP socket; it is adopted under the `listen` address it is bound to, and an
/// inherited socket bound to none of them is closed with a warning (it would hold the port for
/// nobody). Unsets the variables (workers and later upgrades must not read them again) and makes
/// the descriptors close-on-exec. Returns false with a one-line `error` on a malformed variable
/// or a descriptor that is not a listening socket.
[[nodiscard]] bool adopt_inherited_sockets(const std::vector<std::string>& listen,
                                           listen_sockets& sockets,
                                           std::string& error);

}  // namespace fastfork::master
