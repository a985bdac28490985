#include "shm/trust.hpp"

#include <pwd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace fastfork::shm {

std::string describe_user(uid_t uid) {
    std::string out = "uid " + std::to_string(uid);
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found && found->pw_name)
        out += std::string(" (") + found->pw_name + ")";
    return out;
}

std::string why_untrusted(const struct stat& st, uid_t caller) {
    if (st.st_uid != caller && st.st_uid != 0)
        return "is owned by " + describe_user(st.st_uid) + ", not by " + describe_user(caller) +
               " or root: not trusted (remove it if it is not a fastfork of yours)";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return std::string("is writable by group or others (mode ") + mode + ", owner " + describe_user(st.st_uid) +
               "): not trusted";
    }
    return {};
}

bool is_master_of(long pid, const struct stat& st, std::string_view path, std::string& why) {
    const std::string proc = "/proc/" + std::to_string(pid);
    if (pid <= 0) {
        why = "pid " + std::to_string(pid) + " is not a process";
        return false;
    }
    std::ifstream status(proc + "/status");
    if (!status) {
        why = "process " + std::to_string(pid) + " is not running";
        return false;
    }
    bool uid_ok = false, uid_seen = false;
    for (std::string line; std::getline(status, line);) {
        unsigned long real = 0, effective = 0;
        if (std::sscanf(line.c_str(), "Uid: %lu %lu", &real, &effective) == 2) {
            uid_seen = true;
            uid_ok = real == st.st_uid && effective == st.st_uid;
            if (!uid_ok)
                why = "process " + std::to_string(pid) + " runs as " + describe_user(static_cast<uid_t>(effective)) +
                      ", not as the segment's owner " + describe_user(st.st_uid);
            break;
        }
    }
    if (!uid_seen) {
        why = "cannot read the uid of process " + std::to_string(pid);
        return false;
    }
    if (!uid_ok) return false;
    // A maps line: "start-end perms offset major:minor inode   path". The inode and device
    // prove that it maps this very object, not an older one of the same name.
    std::ifstream maps(proc + "/maps");
    for (std::string line; std::getline(maps, line);) {
        if (line.size() < path.size() || line.compare(line.size() - path.size(), path.size(), path) != 0) continue;
        unsigned major_no = 0, minor_no = 0;
        unsigned long long inode = 0;
        if (std::sscanf(line.c_str(), "%*s %*s %*s %x:%x %llu", &major_no, &minor_no, &inode) != 3) continue;
        if (inode == static_cast<unsigned long long>(st.st_ino) && major_no == major(st.st_dev) &&
            minor_no == minor(st.st_dev))
            return true;
    }
    why = "process " + std::to_string(pid) + " does not have " + std::string(path) +
          " mapped: it is not a fastfork master of this segment";
    return false;
}

std::string why_not_handover(long old_master, const struct stat& st, std::string_view path) {
    if (old_master != static_cast<long>(::getppid()))
        return "the hand-over names master " + std::to_string(old_master) + ", but this process's parent is " +
               std::to_string(::getppid()) + ": only a master upgrading itself hands its segment over";
    std::string why;
    if (!is_master_of(old_master, st, path, why)) return why;
    return {};
}

}  // namespace fastfork::shm
