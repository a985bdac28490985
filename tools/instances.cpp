#include "tools/instances.hpp"

#include <dirent.h>

#include <algorithm>
#include <exception>
#include <string_view>

#include "shm/segment.hpp"
#include "shm/snapshot.hpp"

namespace fastfork::tools {

namespace {
// POSIX shm objects live in this tmpfs on Linux (glibc's shm_open maps "/x" to /dev/shm/x).
constexpr const char* shm_dir = "/dev/shm";
constexpr std::string_view prefix = "fastfork.";
}  // namespace

std::vector<instance_info> list_instances() {
    std::vector<instance_info> out;
    DIR* d = ::opendir(shm_dir);
    if (!d) return out;
    while (const dirent* e = ::readdir(d)) {
        std::string_view file = e->d_name;
        if (file.size() <= prefix.size() || file.substr(0, prefix.size()) != prefix) continue;
        instance_info info;
        info.name = std::string(file.substr(prefix.size()));
        try {
            shm::segment seg = shm::segment::open_readonly(info.name);
            const shm::segment_header& h = seg.get()->header;
            info.master_pid = static_cast<long>(h.master_pid.load(std::memory_order_relaxed));
            info.alive = shm::is_process_alive(info.master_pid);
            for (const auto& ws : seg.get()->slots) {
                const auto state = static_cast<shm::worker_state>(ws.state.load(std::memory_order_relaxed));
                if (state == shm::worker_state::starting || state == shm::worker_state::ready ||
                    state == shm::worker_state::draining)
                    ++info.workers;
            }
        } catch (const std::exception& ex) {
            info.error = ex.what();
        }
        out.push_back(std::move(info));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

choice choose_instance(const std::string& requested) {
    choice c;
    if (!requested.empty()) {
        c.name = requested;
        return c;
    }
    std::vector<instance_info> all = list_instances();
    if (all.empty()) {
        c.error = "no fastfork instance is running (no /dev/shm/fastfork.* segment)";
    } else if (all.size() > 1) {
        // Say what each one is, so that the operator can choose without running `list`.
        c.error = "several fastfork instances, choose one with --name:";
        for (const auto& i : all) {
            c.error += "\n  " + i.name;
            if (!i.error.empty())
                c.error += " (unreadable: " + i.error + ")";
            else
                c.error += " (master " + std::to_string(i.master_pid) + ", " + (i.alive ? "alive" : "stale") + ")";
        }
        c.ambiguous = true;
    } else {
        c.name = all.front().name;
    }
    return c;
}

}  // namespace fastfork::tools
