#include "master/running_instances.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "shm/layout.hpp"
#include "shm/segment.hpp"
#include "shm/trust.hpp"

namespace fastfork::master {

namespace {

constexpr std::string_view segment_prefix = "fastfork.";

// The master pid recorded in /fastfork.<name>, or 0 when it is missing or not a fastfork segment.
long segment_master_pid(std::string_view name) {
    const std::string obj = shm::segment::object_name(name);
    int fd = ::shm_open(obj.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;
    long pid = 0;
    struct stat st {};
    // Only a segment we may trust names a running instance, and only if its pid is a master
    // that maps it (shm/trust.hpp): a forged segment is refused later, naming its owner.
    if (::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) >= sizeof(shm::segment_header) &&
        shm::why_untrusted(st, ::geteuid()).empty()) {
        void* p = ::mmap(nullptr, sizeof(shm::segment_header), PROT_READ, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            const auto* h = static_cast<const shm::segment_header*>(p);
            if (h->magic == shm::segment_magic) pid = static_cast<long>(h->master_pid.load());
            ::munmap(p, sizeof(shm::segment_header));
        }
        std::string why;
        if (pid != 0 && !shm::is_master_of(pid, st, shm::segment::path(name), why)) pid = 0;
    }
    ::close(fd);
    return pid;
}

bool process_holds_socket(long pid, ino_t inode) {
    char dir_path[64];
    std::snprintf(dir_path, sizeof dir_path, "/proc/%ld/fd", pid);
    DIR* d = ::opendir(dir_path);
    if (!d) return false;
    char wanted[64];
    std::snprintf(wanted, sizeof wanted, "socket:[%llu]", static_cast<unsigned long long>(inode));
    bool found = false;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        char link[96];
        ssize_t n = ::readlinkat(::dirfd(d), e->d_name, link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = '\0';
        if (std::strcmp(link, wanted) == 0) {
            found = true;
            break;
        }
    }
    ::closedir(d);
    return found;
}

}  // namespace

std::optional<running_instance> find_running_instance(std::string_view name) {
    long pid = segment_master_pid(name);
    if (pid <= 0 || !shm::is_process_alive(pid)) return std::nullopt;
    return running_instance{std::string(name), pid};
}

std::optional<running_instance> instance_holding_socket(ino_t socket_inode) {
    // POSIX shm objects live in /dev/shm on Linux (glibc maps "/x" to /dev/shm/x).
    DIR* d = ::opendir("/dev/shm");
    if (!d) return std::nullopt;
    std::optional<running_instance> out;
    while (dirent* e = ::readdir(d)) {
        std::string_view file = e->d_name;
        if (file.substr(0, segment_prefix.size()) != segment_prefix) continue;
        auto instance = find_running_instance(file.substr(segment_prefix.size()));
        if (instance && process_holds_socket(instance->master_pid, socket_inode)) {
            out = std::move(instance);
            break;
        }
    }
    ::closedir(d);
    return out;
}

std::string how_to_stop(const running_instance& instance) {
    return "fastforkctl --name " + instance.name + " stop (or kill -TERM " + std::to_string(instance.master_pid) + ")";
}

}  // namespace fastfork::master
