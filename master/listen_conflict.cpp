#include "master/listen_conflict.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "master/running_instances.hpp"

namespace fastfork::master {

namespace {

// Whether a socket without SO_REUSEPORT can bind `a`. SO_REUSEADDR is set so that connections
// in TIME_WAIT do not count: on Linux it still fails against any socket in LISTEN state,
// including a wildcard one on the same port, which is exactly the question.
bool probe_in_use(const worker::listen_address& a) {
    int fd = ::socket(a.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;  // the real open reports it
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (a.addr.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    bool in_use = ::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 && errno == EADDRINUSE;
    ::close(fd);
    return in_use;
}

// An address as /proc/net/tcp{,6} prints it: the raw 32-bit words in host order, %08X each.
std::string proc_net_address(const worker::listen_address& a, unsigned& port) {
    char buf[40] = {};
    if (a.addr.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
        port = ntohs(in->sin_port);
        std::snprintf(buf, sizeof buf, "%08X", in->sin_addr.s_addr);
    } else {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.addr);
        port = ntohs(in6->sin6_port);
        std::uint32_t w[4];
        std::memcpy(w, &in6->sin6_addr, sizeof w);
        std::snprintf(buf, sizeof buf, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
    }
    return buf;
}

bool is_wildcard(const std::string& hex) {
    return hex.find_first_not_of('0') == std::string::npos;
}

// Inodes of the sockets in LISTEN state on `port` whose address overlaps `addr` (equal, or
// either side a wildcard; IPv4 and IPv6 wildcards overlap each other, for dual-stack sockets).
std::set<ino_t> overlapping_listeners(const std::string& addr, unsigned port) {
    std::set<ino_t> out;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // the column titles
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
            unsigned long long inode = 0;
            if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
                  inode))
                continue;
            auto colon = local.rfind(':');
            if (state != "0A" || colon == std::string::npos) continue;  // 0A: TCP_LISTEN
            if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
            std::string theirs = local.substr(0, colon);
            bool v4_mapped = theirs.size() == 32 && theirs.compare(0, 24, "0000000000000000FFFF0000") == 0;
            if (v4_mapped) theirs = theirs.substr(24);
            if (theirs == addr || is_wildcard(theirs) || is_wildcard(addr)) out.insert(static_cast<ino_t>(inode));
        }
    }
    return out;
}

// "pid 7 (python3)" for the process holding socket `inode`; empty when none is visible.
std::string process_holding(ino_t inode) {
    DIR* proc = ::opendir("/proc");
    if (!proc) return {};
    char wanted[64];
    std::snprintf(wanted, sizeof wanted, "socket:[%llu]", static_cast<unsigned long long>(inode));
    std::string out;
    while (dirent* p = ::readdir(proc)) {
        if (p->d_name[0] < '0' || p->d_name[0] > '9') continue;
        std::string fd_dir = std::string("/proc/") + p->d_name + "/fd";
        DIR* fds = ::opendir(fd_dir.c_str());
        if (!fds) continue;
        bool found = false;
        while (dirent* e = ::readdir(fds)) {
            char link[96];
            ssize_t n = ::readlinkat(::dirfd(fds), e->d_name, link, sizeof link - 1);
            if (n <= 0) continue;
            link[n] = '\0';
            if (std::strcmp(link, wanted) == 0) {
                found = true;
                break;
            }
        }
        ::closedir(fds);
        if (found) {
            std::string comm;
            std::ifstream(std::string("/proc/") + p->d_name + "/comm") >> comm;
            out = std::string("pid ") + p->d_name + (comm.empty() ? "" : " (" + comm + ")");
            break;
        }
    }
    ::closedir(proc);
    return out;
}

}  // namespace

std::string find_listen_conflict(const worker::listen_address& a, const std::vector<int>& own_fds) {
    if (!probe_in_use(a)) return {};
    unsigned port = 0;
    std::string addr = proc_net_address(a, port);
    std::set<ino_t> listeners = overlapping_listeners(addr, port);
    const bool any_listener = !listeners.empty();
    for (int fd : own_fds) {
        struct stat st {};
        if (::fstat(fd, &st) == 0) listeners.erase(st.st_ino);
    }
    // Only our own sockets overlap (a reload from 127.0.0.1:P to 0.0.0.0:P): they may share.
    if (any_listener && listeners.empty()) return {};
    const std::string in_use = std::strerror(EADDRINUSE);
    for (ino_t inode : listeners)
        if (auto instance = instance_holding_socket(inode))
            return in_use + " by fastfork instance \"" + instance->name + "\" (master pid " +
                   std::to_string(instance->master_pid) + "); stop it first: " + how_to_stop(*instance) +
                   ", or listen elsewhere";
    for (ino_t inode : listeners)
        if (auto holder = process_holding(inode); !holder.empty())
            return in_use + " by " + holder + "; only the sockets of one fastfork instance may share a port";
    return in_use + "; only the sockets of one fastfork instance may share a port";
}

}  // namespace fastfork::master
