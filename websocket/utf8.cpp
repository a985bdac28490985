#include "websocket/utf8.hpp"

#include <cstring>

namespace fastfork::websocket {

// The state encodes what the next bytes must be (RFC 3629 §4 table):
//   0 accept (at a code point boundary), 1 reject,
//   2 one continuation byte 80..BF left, 3 two left, 4 three left,
//   5 after E0: A0..BF then one,   6 after ED: 80..9F then one (no surrogates),
//   7 after F0: 90..BF then two,   8 after F4: 80..8F then two (<= U+10FFFF).
namespace {

enum : std::uint8_t {
    s_accept = 0,
    s_reject = 1,
    s_cont1 = 2,
    s_cont2 = 3,
    s_cont3 = 4,
    s_e0 = 5,
    s_ed = 6,
    s_f0 = 7,
    s_f4 = 8
};

inline std::uint8_t step(std::uint8_t state, unsigned char c) noexcept {
    switch (state) {
        case s_accept:
            if (c < 0x80) return s_accept;
            if (c < 0xC2) return s_reject;  // continuation bytes and overlong C0/C1
            if (c < 0xE0) return s_cont1;
            if (c == 0xE0) return s_e0;
            if (c == 0xED) return s_ed;
            if (c < 0xF0) return s_cont2;
            if (c == 0xF0) return s_f0;
            if (c < 0xF4) return s_cont3;
            if (c == 0xF4) return s_f4;
            return s_reject;
        case s_cont1:
            return (c & 0xC0) == 0x80 ? s_accept : s_reject;
        case s_cont2:
            return (c & 0xC0) == 0x80 ? s_cont1 : s_reject;
        case s_cont3:
            return (c & 0xC0) == 0x80 ? s_cont2 : s_reject;
        case s_e0:
            return (c >= 0xA0 && c <= 0xBF) ? s_cont1 : s_reject;
        case s_ed:
            return (c >= 0x80 && c <= 0x9F) ? s_cont1 : s_reject;
        case s_f0:
            return (c >= 0x90 && c <= 0xBF) ? s_cont2 : s_reject;
        case s_f4:
            return (c >= 0x80 && c <= 0x8F) ? s_cont2 : s_reject;
        default:
            return s_reject;
    }
}

}  // namespace

bool utf8_validator::feed(std::string_view bytes) noexcept {
    std::uint8_t state = state_;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto* end = p + bytes.size();
    while (p < end) {
        if (state == s_accept) {
            // Most text is ASCII: skip 8 bytes at a time while none has its high bit set.
            while (end - p >= 8) {
                std::uint64_t w;
                std::memcpy(&w, p, 8);
                if (w & 0x8080808080808080ull) break;
                p += 8;
            }
            while (p < end && *p < 0x80) ++p;
            if (p == end) break;
        }
        state = step(state, *p++);
        if (state == s_reject) break;
    }
    state_ = state;
    return state != s_reject;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
    utf8_validator v;
    return v.feed(bytes) && v.is_complete();
}

}  // namespace fastfork::websocket
