#include "http/uri.hpp"

#include "http/rfc9110.hpp"

namespace fastfork::http {

std::size_t percent_decode(std::string_view in, char* out, bool plus_as_space) noexcept {
    // The write position never passes the read position, so decoding in place (out == in.data())
    // is safe.
    std::size_t w = 0;
    for (std::size_t r = 0; r < in.size(); ++r) {
        char c = in[r];
        if (c == '%') {
            // RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG; anything shorter is malformed.
            if (r + 2 >= in.size()) return std::string_view::npos;
            const unsigned hi = hex_value(in[r + 1]);
            const unsigned lo = hex_value(in[r + 2]);
            if (hi > 15 || lo > 15) return std::string_view::npos;
            c = static_cast<char>(hi * 16 + lo);
            r += 2;
        } else if (c == '+' && plus_as_space) {
            c = ' ';
        }
        out[w++] = c;
    }
    return w;
}

void query_args::parse(std::string_view query, char* storage) noexcept {
    count_ = 0;
    std::size_t used = 0;  // bytes of `storage` holding earlier keys and values
    while (!query.empty() && count_ < capacity) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;  // "a=1&&b=2"

        // A pair without '=' is a key with an empty value ("?debug"), as browsers and fasthttp treat it.
        const std::size_t eq = pair.find('=');
        const std::string_view raw_key = pair.substr(0, eq);
        const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);

        // Query strings use the form encoding, where '+' is a space (WHATWG URL,
        // application/x-www-form-urlencoded). Decoded sizes never exceed the raw ones, so the
        // pairs fit in query.size() bytes.
        char* key_out = storage + used;
        const std::size_t key_len = percent_decode(raw_key, key_out, true);
        if (key_len == std::string_view::npos) continue;
        char* value_out = key_out + key_len;
        const std::size_t value_len = percent_decode(raw_value, value_out, true);
        if (value_len == std::string_view::npos) continue;
        used += key_len + value_len;
        items_[count_++] = query_arg{{key_out, key_len}, {value_out, value_len}};
    }
}

std::string_view query_args::get(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
        if (items_[i].key == key) return items_[i].value;
    return {};
}

bool query_args::has(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < count_; ++i)
        if (items_[i].key == key) return true;
    return false;
}

}  // namespace fastfork::http
