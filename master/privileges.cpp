#include "master/privileges.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace fastfork::master {

namespace {

bool parse_id(const std::string& text, unsigned long& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::string failed(const char* call, unsigned long arg) {
    return std::string(call) + "(" + std::to_string(arg) + ") failed: " + std::strerror(errno);
}

}  // namespace

std::string resolve_worker_identity(const config& cfg, uid_t master_euid, worker_identity& out) {
    out = worker_identity{};
    if (cfg.user.empty() && cfg.group.empty()) return {};
    uid_t uid = master_euid;
    gid_t gid = ::getegid();
    std::string name;
    if (!cfg.user.empty()) {
        passwd* pw = nullptr;
        unsigned long n = 0;
        pw = parse_id(cfg.user, n) ? ::getpwuid(static_cast<uid_t>(n)) : ::getpwnam(cfg.user.c_str());
        if (pw) {
            uid = pw->pw_uid;
            gid = pw->pw_gid;
            name = pw->pw_name;
        } else if (parse_id(cfg.user, n)) {
            uid = static_cast<uid_t>(n);  // a uid without a passwd entry, as nginx allows
            gid = static_cast<gid_t>(n);
        } else {
            return "key \"user\": no such user \"" + cfg.user + "\"";
        }
    }
    if (!cfg.group.empty()) {
        unsigned long n = 0;
        group* gr = parse_id(cfg.group, n) ? ::getgrgid(static_cast<gid_t>(n)) : ::getgrnam(cfg.group.c_str());
        if (gr)
            gid = gr->gr_gid;
        else if (parse_id(cfg.group, n))
            gid = static_cast<gid_t>(n);
        else
            return "key \"group\": no such group \"" + cfg.group + "\"";
    }
    if (master_euid != 0) {
        if (uid == master_euid && gid == ::getegid()) return {};  // already who the workers should be
        return std::string("key \"") + (cfg.user.empty() ? "group" : "user") +
               "\": only a master started as root can switch the workers to another user or group (this one runs "
               "as uid " +
               std::to_string(master_euid) + ")";
    }
    out.drop = true;
    out.uid = uid;
    out.gid = gid;
    out.user = name;
    return {};
}

std::string drop_privileges(const worker_identity& id) noexcept {
    if (!id.drop) return {};
    // Supplementary groups first: once the uid is gone, root's groups could not be shed.
    if (!id.user.empty() ? ::initgroups(id.user.c_str(), id.gid) != 0 : ::setgroups(1, &id.gid) != 0)
        return failed(id.user.empty() ? "setgroups" : "initgroups", id.gid);
    if (::setgid(id.gid) != 0) return failed("setgid", id.gid);
    if (::setuid(id.uid) != 0) return failed("setuid", id.uid);
    if (::getuid() != id.uid || ::geteuid() != id.uid || ::getgid() != id.gid || ::getegid() != id.gid)
        return "the ids did not change to uid " + std::to_string(id.uid) + ", gid " + std::to_string(id.gid);
    if (id.uid != 0 && ::setuid(0) == 0) return "setuid(0) succeeded after dropping privileges";
    // A uid change makes the process non-dumpable, and then /proc/self/* belongs to root.
    ::prctl(PR_SET_DUMPABLE, 1);
    return {};
}

std::string hand_over_file(const std::string& path, const worker_identity& id) {
    if (!id.drop || path.empty()) return {};
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return "open(" + path + ") failed: " + std::strerror(errno);
    std::string error;
    if (::fchown(fd, id.uid, id.gid) != 0) error = "fchown(" + path + ") failed: " + std::strerror(errno);
    ::close(fd);
    return error;
}

}  // namespace fastfork::master
