#include "websocket/sha1.hpp"

#include <cstring>

namespace fastfork::websocket {

namespace {

constexpr std::uint32_t rotl(std::uint32_t x, int n) noexcept {
    return (x << n) | (x >> (32 - n));
}

// FIPS 180-4 §6.1.2: one 64-byte block into the running hash.
void sha1_block(std::uint32_t h[5], const std::uint8_t* block) noexcept {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i)
        w[i] = std::uint32_t(block[4 * i]) << 24 | std::uint32_t(block[4 * i + 1]) << 16 |
               std::uint32_t(block[4 * i + 2]) << 8 | std::uint32_t(block[4 * i + 3]);
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
        std::uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t decode_char(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return static_cast<std::uint8_t>(c - 'A');
    if (c >= 'a' && c <= 'z') return static_cast<std::uint8_t>(c - 'a' + 26);
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0' + 52);
    if (c == '+') return 62;
    if (c == '/') return 63;
    return 0xFF;
}

}  // namespace

sha1_digest sha1(std::string_view a, std::string_view b) noexcept {
    std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    std::uint8_t block[64];
    std::size_t fill = 0;
    std::uint64_t total = 0;
    auto absorb = [&](std::string_view s) {
        for (char c : s) {
            block[fill++] = static_cast<std::uint8_t>(c);
            if (fill == 64) {
                sha1_block(h, block);
                fill = 0;
            }
        }
        total += s.size();
    };
    absorb(a);
    absorb(b);
    // Padding: 0x80, zeros up to 56 mod 64, then the bit length big-endian.
    block[fill++] = 0x80;
    if (fill > 56) {
        std::memset(block + fill, 0, 64 - fill);
        sha1_block(h, block);
        fill = 0;
    }
    std::memset(block + fill, 0, 56 - fill);
    std::uint64_t bits = total * 8;
    for (int i = 0; i < 8; ++i) block[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    sha1_block(h, block);
    sha1_digest out;
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (24 - 8 * j));
    return out;
}

std::size_t base64_encode(const std::uint8_t* in, std::size_t n, char* out) noexcept {
    char* p = out;
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        std::uint32_t v = std::uint32_t(in[i]) << 16 | std::uint32_t(in[i + 1]) << 8 | in[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        *p++ = alphabet[v & 63];
    }
    if (i < n) {
        std::uint32_t v = std::uint32_t(in[i]) << 16 | (i + 1 < n ? std::uint32_t(in[i + 1]) << 8 : 0);
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    return static_cast<std::size_t>(p - out);
}

std::ptrdiff_t base64_decode(std::string_view in, std::uint8_t* out, std::size_t cap) noexcept {
    if (in.size() % 4 != 0) return -1;
    std::size_t pad = 0;
    if (!in.empty() && in.back() == '=') pad = (in.size() >= 2 && in[in.size() - 2] == '=') ? 2 : 1;
    std::size_t size = in.size() / 4 * 3 - pad;
    if (size > cap) return -1;
    std::size_t o = 0;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        bool tail = i + 4 == in.size();
        std::uint8_t c[4];
        for (int j = 0; j < 4; ++j) {
            bool padded = tail && j >= 4 - static_cast<int>(pad);
            c[j] = padded ? 0 : decode_char(in[i + j]);
            if (c[j] == 0xFF) return -1;
        }
        std::uint32_t v = std::uint32_t(c[0]) << 18 | std::uint32_t(c[1]) << 12 | std::uint32_t(c[2]) << 6 | c[3];
        // Canonical form only: the bits a padded group drops must be zero.
        if (tail && pad == 1 && (v & 0xFF) != 0) return -1;
        if (tail && pad == 2 && (v & 0xFFFF) != 0) return -1;
        out[o++] = static_cast<std::uint8_t>(v >> 16);
        if (!(tail && pad == 2)) out[o++] = static_cast<std::uint8_t>(v >> 8);
        if (!(tail && pad >= 1)) out[o++] = static_cast<std::uint8_t>(v);
    }
    return static_cast<std::ptrdiff_t>(o);
}

}  // namespace fastfork::websocket
