#include "shm/text.hpp"

namespace fastfork::shm {

namespace {

bool is_continuation(unsigned char c) noexcept {
    return (c & 0xC0) == 0x80;
}

// C0 controls and DEL are escaped too: the table prints the message to a terminal.
bool is_control(unsigned char c) noexcept {
    return c < 0x20 || c == 0x7F;
}

// Calls emit(bytes, n) for each output unit of `text`: a whole character, or an escape.
template <class Emit>
void for_each_unit(std::string_view text, Emit&& emit) {
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t n = is_control(c) ? 0 : utf8_sequence_length(text.substr(i));
        if (n > 0) {
            if (!emit(text.data() + i, n)) return;
            i += n;
            continue;
        }
        const char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xF]};
        if (!emit(esc, sizeof esc)) return;
        ++i;
    }
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s) noexcept {
    if (s.empty()) return 0;
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80) return 1;
    // RFC 3629 §4: the second byte's range depends on the first (no overlongs, no surrogates,
    // nothing above U+10FFFF); the others are plain continuation bytes.
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        n = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        n = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (s.size() < n) return 0;
    const auto b1 = static_cast<unsigned char>(s[1]);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (!is_continuation(static_cast<unsigned char>(s[k]))) return 0;
    return n;
}

std::size_t copy_text(char* dst, std::size_t capacity, std::string_view text) noexcept {
    if (capacity == 0) return 0;
    std::size_t len = 0;
    for_each_unit(text, [&](const char* p, std::size_t n) {
        if (len + n + 1 > capacity) return false;  // keep room for the NUL
        for (std::size_t k = 0; k < n; ++k) dst[len + k] = p[k];
        len += n;
        return true;
    });
    dst[len] = '\0';
    return len;
}

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_unit(text, [&](const char* p, std::size_t n) {
        out.append(p, n);
        return true;
    });
    return out;
}

}  // namespace fastfork::shm
