#include "master/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "shm/clock.hpp"

namespace fastfork::master {

sd_notifier::sd_notifier() {
    const char* sock = std::getenv("NOTIFY_SOCKET");
    if (!sock || !*sock) return;
    std::size_t len = std::strlen(sock);
    if (len >= sizeof path_ || (sock[0] != '/' && sock[0] != '@')) return;
    std::memcpy(path_, sock, len);
    // A leading '@' names a socket in the abstract namespace, written with a NUL first byte.
    if (path_[0] == '@') path_[0] = '\0';
    path_len_ = static_cast<unsigned>(len);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (const char* wd = std::getenv("WATCHDOG_USEC")) {
        const char* wpid = std::getenv("WATCHDOG_PID");
        if (!wpid || std::strtol(wpid, nullptr, 10) == static_cast<long>(::getpid()))
            watchdog_usec_ = std::strtoull(wd, nullptr, 10);
    }
}

sd_notifier::~sd_notifier() {
    if (fd_ >= 0) ::close(fd_);
}

bool sd_notifier::notify(std::string_view message) noexcept {
    if (fd_ < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_, path_len_);
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_len_);
    return ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len) ==
           static_cast<ssize_t>(message.size());
}

void sd_notifier::reloading() noexcept {
    char msg[96];
    int n = std::snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          static_cast<unsigned long long>(shm::monotonic_us()));
    notify(std::string_view(msg, static_cast<std::size_t>(n)));
}

void sd_notifier::status(std::string_view line) noexcept {
    char msg[512];
    int n = std::snprintf(msg, sizeof msg, "STATUS=%.*s", static_cast<int>(line.size()), line.data());
    if (n > 0) notify(std::string_view(msg, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof msg - 1)));
}

}  // namespace fastfork::master
