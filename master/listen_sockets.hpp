#pragma once
// The master's listening sockets (master): one SO_REUSEPORT socket per listen address and
// worker index, opened before fork and kept across worker restarts and reloads, so that
// connections queued in a socket wait for its next worker instead of being reset.

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fastfork::master {

class listen_sockets {
public:
    listen_sockets() = default;
    ~listen_sockets() { close_all(); }
    listen_sockets(const listen_sockets&) = delete;
    listen_sockets& operator=(const listen_sockets&) = delete;

    /// Makes sure each of `addresses` has at least `count` sockets (worker indexes 0..count-1).
    /// An address not open yet is refused when anything but these sockets listens on it
    /// (find_listen_conflict): only one instance's sockets may form a reuseport group.
    /// On failure returns false with a one-line `error` naming the address; the sockets opened
    /// so far stay (the caller closes new addresses with close()).
    bool open(const std::vector<std::string>& addresses, unsigned count, int backlog, std::string& error);

    /// Takes `fd`, a listening socket this process inherited (master/inherited_sockets.hpp), as
    /// the next worker index's socket of `address`; no conflict check and no bind for it. With
    /// `shared` (a socket without SO_REUSEPORT, as systemd passes by default) no further socket
    /// can join it: open() adds none for that address and every worker index serves this one.
    void adopt(const std::string& address, int fd, bool shared);

    /// (address, fd) of every socket, each address's in worker-index order: what a binary
    /// upgrade hands over.
    [[nodiscard]] std::vector<std::pair<std::string, int>> entries() const;

    /// The sockets of worker `index`, one per address of `listen` that has one, in that order.
    [[nodiscard]] std::vector<int> fds_for(const std::vector<std::string>& listen, unsigned index) const;

    [[nodiscard]] bool contains(const std::string& address) const { return fds_.count(address) != 0; }
    /// Every descriptor held, of every address.
    [[nodiscard]] std::vector<int> all_fds() const;

    /// Closes every socket of `address`.
    void close(const std::string& address) noexcept;
    /// Closes the addresses that are not in `listen`, and the sockets of indexes >= `count`.
    void close_unused(const std::vector<std::string>& listen, unsigned count) noexcept;
    void close_all() noexcept;

private:
    std::map<std::string, std::vector<int>> fds_;  // address → fd per worker index
    std::set<std::string> shared_;                 // addresses served by one inherited socket
};

}  // namespace fastfork::master
