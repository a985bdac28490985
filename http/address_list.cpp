#include "http/address_list.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace fastfork::http {

namespace {

constexpr std::uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string format_block(const ip_prefix& p) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(p.is_v6 ? AF_INET6 : AF_INET, p.bytes.data(), text, sizeof text);
    return std::string(text) + "/" + std::to_string(p.bits);
}

}  // namespace

bool ip_prefix::contains(const std::uint8_t* addr) const noexcept {
    const unsigned whole = bits / 8u;
    if (std::memcmp(bytes.data(), addr, whole) != 0) return false;
    const unsigned rest = bits % 8u;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xffu << (8u - rest));
    return (bytes[whole] & mask) == (addr[whole] & mask);
}

std::string try_parse_ip_prefix(std::string_view text, ip_prefix& out) {
    const std::size_t slash = text.find('/');
    const std::string address(text.substr(0, slash));
    ip_prefix p;
    p.is_v6 = address.find(':') != std::string::npos;
    if (inet_pton(p.is_v6 ? AF_INET6 : AF_INET, address.c_str(), p.bytes.data()) != 1)
        return p.is_v6 ? "expected an IPv6 address like \"::1\" or \"fd00::/8\" (no zone, no brackets)"
                       : "expected an IPv4 address like \"10.0.0.5\" or a block like \"10.0.0.0/8\"";
    const unsigned max_bits = p.is_v6 ? 128 : 32;
    unsigned bits = max_bits;
    if (slash != std::string_view::npos) {
        const std::string_view len = text.substr(slash + 1);
        if (len.empty() || len.size() > 3 ||
            !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return "expected a prefix length after \"/\" (0 to " + std::to_string(max_bits) + ")";
        bits = 0;
        for (char c : len) bits = bits * 10 + static_cast<unsigned>(c - '0');
        if (bits > max_bits)
            return "prefix length " + std::to_string(bits) + " is longer than " + std::to_string(max_bits) + " bits";
    }
    p.bits = static_cast<std::uint8_t>(bits);
    ip_prefix block = p;
    for (unsigned i = 0; i < 16; ++i) {
        const unsigned first_bit = i * 8;
        if (first_bit >= bits)
            block.bytes[i] = 0;
        else if (bits - first_bit < 8)
            block.bytes[i] &= static_cast<std::uint8_t>(0xffu << (8u - (bits - first_bit)));
    }
    if (block.bytes != p.bytes)
        return std::string(text) + " has bits set after the prefix; the block is " + format_block(block) +
               ", a single address has no \"/\"";
    out = p;
    return {};
}

address_list address_list::loopback() {
    address_list l;
    (void)l.try_add("127.0.0.0/8");
    (void)l.try_add("::1");
    return l;
}

std::string address_list::try_add(std::string_view entry) {
    if (entry == "all") {
        everyone_ = true;
    } else {
        ip_prefix p;
        if (std::string why = try_parse_ip_prefix(entry, p); !why.empty()) return why;
        prefixes_.push_back(p);
    }
    entries_.emplace_back(entry);
    return {};
}

bool address_list::allows(std::span<const std::uint8_t> addr) const noexcept {
    if (everyone_) return true;
    // Both views of the peer: an IPv4 one (for IPv4 blocks) and an IPv6 one (for IPv6 blocks).
    const std::uint8_t* v4 = nullptr;
    const std::uint8_t* v6 = nullptr;
    std::uint8_t mapped[16];
    if (addr.size() == 4) {
        std::memcpy(mapped, v4_mapped_prefix, sizeof v4_mapped_prefix);
        std::memcpy(mapped + 12, addr.data(), 4);
        v4 = addr.data();
        v6 = mapped;
    } else if (addr.size() == 16) {
        v6 = addr.data();
        if (std::memcmp(v6, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) v4 = v6 + 12;
    } else {
        return false;
    }
    for (const ip_prefix& p : prefixes_) {
        if (p.is_v6 ? p.contains(v6) : v4 != nullptr && p.contains(v4)) return true;
    }
    return false;
}

}  // namespace fastfork::http
