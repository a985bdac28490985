#pragma once
// Other fastfork instances on this machine, found through their stats segments
// (/dev/shm/fastfork.<name>) (master): to refuse a name or an address another instance uses,
// and to say which instance that is and how to stop it.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace fastfork::master {

struct running_instance {
    std::string name;  // the instance name: the segment is /dev/shm/fastfork.<name>
    long master_pid = 0;
};

/// The instance whose segment is /fastfork.<name>, when it is a fastfork segment and its master
/// is alive; nullopt otherwise (no segment, stale, or not ours).
[[nodiscard]] std::optional<running_instance> find_running_instance(std::string_view name);

/// The live instance whose master holds the socket with inode `socket_inode`, if any.
[[nodiscard]] std::optional<running_instance> instance_holding_socket(ino_t socket_inode);

/// "fastforkctl --name N stop (or kill -TERM P)": how to stop `instance`, for messages.
[[nodiscard]] std::string how_to_stop(const running_instance& instance);

}  // namespace fastfork::master
