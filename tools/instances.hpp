#pragma once
// Finding fastfork instances (fastforkctl): the stats segments /dev/shm/fastfork.<name>.

#include <string>
#include <vector>

namespace fastfork::tools {

/// One segment found in /dev/shm, as `fastforkctl list` shows it.
struct instance_info {
    std::string name;      // the <name> of /dev/shm/fastfork.<name>
    long master_pid = 0;   // 0 when the segment could not be read
    bool alive = false;    // the master pid is a live process
    unsigned workers = 0;  // live worker processes
    std::string error;     // why it could not be read (other layout version, ...); empty if read
};

/// Every fastfork segment in /dev/shm, sorted by name. Never throws except std::bad_alloc.
[[nodiscard]] std::vector<instance_info> list_instances();

/// The outcome of choose_instance.
struct choice {
    std::string name;        // empty on failure
    std::string error;       // why nothing was chosen
    bool ambiguous = false;  // several instances: the caller must pass --name (a usage error)
};

/// The instance to act on: `requested` if not empty, else the only one there is.
[[nodiscard]] choice choose_instance(const std::string& requested);

}  // namespace fastfork::tools
