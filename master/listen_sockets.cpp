#include "master/listen_sockets.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "master/listen_conflict.hpp"
#include "worker/listener.hpp"

namespace fastfork::master {

bool listen_sockets::open(const std::vector<std::string>& addresses, unsigned count, int backlog, std::string& error) {
    for (const auto& spec : addresses) {
        worker::listen_address a;
        if (!worker::try_parse_listen_address(spec, a, error)) {
            error = "listen \"" + spec + "\": " + error;
            return false;
        }
        if (!contains(spec)) {
            if (std::string why = find_listen_conflict(a, all_fds()); !why.empty()) {
                error = "cannot listen on " + a.text + ": " + why;
                return false;
            }
        }
        auto& fds = fds_[spec];
        while (fds.size() < count && shared_.count(spec) == 0) {
            int fd = worker::open_listen_socket(a, backlog);
            if (fd < 0) {
                error = "cannot listen on " + a.text + ": " + std::strerror(-fd);
                return false;
            }
            fds.push_back(fd);
        }
    }
    return true;
}

std::vector<int> listen_sockets::fds_for(const std::vector<std::string>& listen, unsigned index) const {
    std::vector<int> out;
    for (const auto& spec : listen) {
        auto it = fds_.find(spec);
        if (it == fds_.end() || it->second.empty()) continue;
        if (index < it->second.size())
            out.push_back(it->second[index]);
        else if (shared_.count(spec) != 0)
            out.push_back(it->second[index % it->second.size()]);
    }
    return out;
}

void listen_sockets::adopt(const std::string& address, int fd, bool shared) {
    fds_[address].push_back(fd);
    if (shared) shared_.insert(address);
}

std::vector<std::pair<std::string, int>> listen_sockets::entries() const {
    std::vector<std::pair<std::string, int>> out;
    for (const auto& [addr, fds] : fds_)
        for (int fd : fds) out.emplace_back(addr, fd);
    return out;
}

std::vector<int> listen_sockets::all_fds() const {
    std::vector<int> out;
    for (const auto& [addr, fds] : fds_) out.insert(out.end(), fds.begin(), fds.end());
    return out;
}

void listen_sockets::close(const std::string& address) noexcept {
    auto it = fds_.find(address);
    if (it == fds_.end()) return;
    for (int fd : it->second) ::close(fd);
    fds_.erase(it);
    shared_.erase(address);
}

void listen_sockets::close_unused(const std::vector<std::string>& listen, unsigned count) noexcept {
    for (auto it = fds_.begin(); it != fds_.end();) {
        bool used = std::find(listen.begin(), listen.end(), it->first) != listen.end();
        if (!used) {
            for (int fd : it->second) ::close(fd);
            shared_.erase(it->first);
            it = fds_.erase(it);
            continue;
        }
        while (it->second.size() > count) {
            ::close(it->second.back());
            it->second.pop_back();
        }
        ++it;
    }
}

void listen_sockets::close_all() noexcept {
    for (auto& [addr, fds] : fds_)
        for (int fd : fds) ::close(fd);
    fds_.clear();
    shared_.clear();
}

}  // namespace fastfork::master
