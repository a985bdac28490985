#pragma once
// Allow-lists of peer addresses (parsed by the master, matched by the worker): IPv4 and IPv6
// addresses and CIDR blocks, parsed once from config text into a compact form and matched
// against a peer's raw address bytes without allocating. No I/O.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fastfork::http {

/// One CIDR block: the first `bits` bits of `bytes` (bytes[0..4) for IPv4, all 16 for IPv6).
struct ip_prefix {
    std::array<std::uint8_t, 16> bytes{};
    std::uint8_t bits = 0;  // 0..32 (IPv4) or 0..128 (IPv6)
    bool is_v6 = false;

    /// Whether `addr` (4 or 16 bytes, network order, of the same family) lies in the block.
    [[nodiscard]] bool contains(const std::uint8_t* addr) const noexcept;
};

/// Parses "10.0.0.5" (a /32), "10.0.0.0/8", "::1" (a /128), "fd00::/8". Returns an empty string
/// on success, else why not ("expected an IPv4 or IPv6 address …", "prefix length 33 is longer
/// than 32 bits", "10.0.0.5/8 has bits set after the prefix; the block is 10.0.0.0/8"): host bits
/// after the prefix are refused because "10.0.0.5/8" is more often a typo for /32 than a wish
/// for the whole /8.
[[nodiscard]] std::string try_parse_ip_prefix(std::string_view text, ip_prefix& out);

/// The peers that may see something: a list of ip_prefix, or everyone ("all").
///
/// Matching treats an IPv4-mapped IPv6 peer (::ffff:10.0.0.1, as a dual-stack socket reports an
/// IPv4 client) as the IPv4 address it carries, and an IPv4 peer as its mapped form, so "10.0.0.0/8"
/// and "::ffff:10.0.0.0/104" mean the same whatever socket the peer came in on, and "::/0"
/// covers every peer.
class address_list {
public:
    /// Nobody.
    address_list() = default;
    /// 127.0.0.0/8 and ::1: only this host.
    [[nodiscard]] static address_list loopback();

    /// Adds one config entry: "all" (everyone), or an address or CIDR block (try_parse_ip_prefix).
    /// Returns an empty string on success, else why not; the list is unchanged then.
    [[nodiscard]] std::string try_add(std::string_view entry);

    /// Whether the peer whose address is `addr` (4 bytes IPv4 or 16 bytes IPv6, network order)
    /// is on the list. With "all" every peer is; otherwise a peer of any other size (no address
    /// known) is not. Never allocates.
    [[nodiscard]] bool allows(std::span<const std::uint8_t> addr) const noexcept;

    [[nodiscard]] bool allows_everyone() const noexcept { return everyone_; }
    [[nodiscard]] bool empty() const noexcept { return !everyone_ && prefixes_.empty(); }
    /// The entries as given, for --help and messages.
    [[nodiscard]] const std::vector<std::string>& entries() const noexcept { return entries_; }

private:
    std::vector<ip_prefix> prefixes_;
    std::vector<std::string> entries_;
    bool everyone_ = false;
};

}  // namespace fastfork::http
