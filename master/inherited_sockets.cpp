#include "master/inherited_sockets.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "worker/listener.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

namespace {

struct inherited {
    int fd;
    std::string source;  // "FASTFORK_LISTEN_FDS fd 3 (127.0.0.1:8080)", for messages
};

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET) {
        const auto* x = reinterpret_cast<const sockaddr_in*>(&a);
        const auto* y = reinterpret_cast<const sockaddr_in*>(&b);
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a.ss_family == AF_INET6) {
        const auto* x = reinterpret_cast<const sockaddr_in6*>(&a);
        const auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
        return x->sin6_port == y->sin6_port && std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return false;
}

bool parse_fd(std::string_view text, int& fd) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
    return ec == std::errc() && end == text.data() + text.size() && fd >= 0;
}

// FASTFORK_LISTEN_FDS: "fd:address;…". The address is what the old master called it; the
// socket's own getsockname decides where it goes.
bool read_fastfork_fds(const char* value, std::vector<inherited>& out, std::string& error) {
    std::string_view rest = value;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        if (item.empty()) continue;
        auto colon = item.find(':');
        int fd = -1;
        if (colon == std::string_view::npos || !parse_fd(item.substr(0, colon), fd)) {
            error = std::string(listen_fds_env) + ": \"" + std::string(item) + "\" is not FD:ADDRESS";
            return false;
        }
        out.push_back({fd, std::string(listen_fds_env) + " fd " + std::to_string(fd) + " (" +
                               std::string(item.substr(colon + 1)) + ")"});
    }
    return true;
}

// systemd's socket activation (sd_listen_fds(3)): LISTEN_FDS descriptors from 3, meant for us
// only when LISTEN_PID is our pid (a child that inherited the environment must ignore them).
bool read_systemd_fds(std::vector<inherited>& out, std::string& error) {
    const char* count = std::getenv("LISTEN_FDS");
    const char* pid = std::getenv("LISTEN_PID");
    if (!count) return true;
    int n = 0, p = 0;
    if (!pid || !parse_fd(pid, p) || p != static_cast<int>(::getpid())) return true;
    if (!parse_fd(count, n)) {
        error = std::string("LISTEN_FDS=\"") + count + "\" is not a number";
        return false;
    }
    for (int i = 0; i < n; ++i) out.push_back({3 + i, "LISTEN_FDS fd " + std::to_string(3 + i)});
    return true;
}

}  // namespace

std::string format_listen_fds(const listen_sockets& sockets) {
    std::string out;
    for (const auto& [address, fd] : sockets.entries()) {
        if (!out.empty()) out += ';';
        out += std::to_string(fd) + ":" + address;
    }
    return out;
}

bool adopt_inherited_sockets(const std::vector<std::string>& listen, listen_sockets& sockets, std::string& error) {
    std::vector<inherited> fds;
    if (const char* v = std::getenv(listen_fds_env)) {
        if (!read_fastfork_fds(v, fds, error)) return false;
    } else if (!read_systemd_fds(fds, error)) {
        return false;
    }
    ::unsetenv(listen_fds_env);
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDNAMES");
    std::vector<worker::listen_address> wanted(listen.size());
    for (std::size_t i = 0; i < listen.size(); ++i)
        if (!worker::try_parse_listen_address(listen[i], wanted[i], error)) {
            error = "listen \"" + listen[i] + "\": " + error;
            return false;
        }
    for (const auto& in : fds) {
        int type = 0, listening = 0;
        socklen_t len = sizeof type;
        if (::getsockopt(in.fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
            (len = sizeof listening, ::getsockopt(in.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) != 0 ||
            listening == 0) {
            error = in.source + " is not a listening TCP socket";
            return false;
        }
        ::fcntl(in.fd, F_SETFD, FD_CLOEXEC);
        // The workers' loops expect non-blocking sockets, as open_listen_socket makes them.
        ::fcntl(in.fd, F_SETFL, ::fcntl(in.fd, F_GETFL) | O_NONBLOCK);
        sockaddr_storage bound{};
        len = sizeof bound;
        if (::getsockname(in.fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
            error = in.source + ": getsockname failed: " + std::strerror(errno);
            return false;
        }
        std::size_t match = listen.size();
        for (std::size_t i = 0; i < listen.size() && match == listen.size(); ++i)
            if (same_address(bound, wanted[i].addr)) match = i;
        if (match == listen.size()) {
            FF_LOG_WARN("%s is bound to no configured listen address: closing it", in.source.c_str());
            ::close(in.fd);
            continue;
        }
        int reuseport = 0;
        len = sizeof reuseport;
        ::getsockopt(in.fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, &len);
        sockets.adopt(listen[match], in.fd, reuseport == 0);
        FF_LOG_INFO("using inherited socket %s for %s%s", in.source.c_str(), wanted[match].text.c_str(),
                    reuseport == 0 ? " (no SO_REUSEPORT: every worker shares it)" : "");
    }
    return true;
}

}  // namespace fastfork::master
