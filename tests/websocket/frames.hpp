#pragma once
// Test helpers: client frames (masked, as RFC 6455 §5.3 requires of clients) and a driver that
// feeds a message_reader an input cut at given points, each piece in its own buffer, and
// records the events with their payloads copied out.

#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "http/byte_buffer.hpp"
#include "websocket/close_code.hpp"
#include "websocket/message_reader.hpp"

namespace fastfork::websocket::test {

/// A frame as a client sends it: masked with `mask` unless `masked` is false.
inline std::string client_frame(opcode op,
                                std::string_view payload,
                                bool fin = true,
                                bool rsv1 = false,
                                bool masked = true,
                                std::uint32_t mask = 0x37fa213d) {
    std::string f;
    f += static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<int>(op));
    unsigned char m = masked ? 0x80 : 0;
    if (payload.size() < 126) {
        f += static_cast<char>(m | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        f += static_cast<char>(m | 126);
        f += static_cast<char>(payload.size() >> 8);
        f += static_cast<char>(payload.size() & 0xFF);
    } else {
        f += static_cast<char>(m | 127);
        for (int i = 7; i >= 0; --i) f += static_cast<char>((std::uint64_t(payload.size()) >> (8 * i)) & 0xFF);
    }
    unsigned char key[4] = {static_cast<unsigned char>(mask >> 24), static_cast<unsigned char>(mask >> 16),
                            static_cast<unsigned char>(mask >> 8), static_cast<unsigned char>(mask)};
    if (masked) f.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < payload.size(); ++i)
        f += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
    return f;
}

/// What a user of the reader sees of one event.
struct seen {
    event_type type;
    opcode op = opcode::binary;
    std::string payload;
    close_code code = close_code::no_status;
    bool operator==(const seen&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const seen& s) {
    return os << "{type " << int(s.type) << " op " << int(s.op) << " code " << int(s.code) << " payload["
              << s.payload.size() << "] " << s.payload.substr(0, 40) << "}";
}

inline std::ostream& operator<<(std::ostream& os, const std::vector<seen>& v) {
    for (const auto& s : v) os << s << ' ';
    return os;
}

/// Feeds `input` to `reader` in pieces ending at `cuts` (ascending, then the rest), each piece
/// copied into a fresh buffer that is destroyed after its need_more, so the reader can keep no
/// pointer into old input. Stops after an error event. need_more events are not recorded.
inline std::vector<seen> feed(message_reader& reader,
                              std::string_view input,
                              const std::vector<std::size_t>& cuts,
                              http::byte_buffer& msg) {
    std::vector<seen> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= cuts.size(); ++i) {
        std::size_t end = i < cuts.size() ? cuts[i] : input.size();
        std::string piece(input.substr(start, end - start));
        start = end;
        for (std::size_t pos = 0;;) {
            event ev = reader.read(piece.data() + pos, piece.size() - pos, msg);
            pos += ev.consumed;
            if (ev.type == event_type::need_more) {
                if (pos != piece.size()) out.push_back({event_type::need_more, opcode::binary, "unconsumed", {}});
                break;
            }
            out.push_back({ev.type, ev.op, std::string(ev.payload), ev.code});
            if (ev.type == event_type::error) return out;
        }
    }
    return out;
}

/// The events for `input` fed whole.
inline std::vector<seen> feed_whole(const reader_options& options, std::string_view input) {
    message_reader r(options);
    http::byte_buffer msg;
    return feed(r, input, {}, msg);
}

/// Asserts (through the returned flag and a message) that every two-piece split and the
/// byte-at-a-time feed give `expected`.
inline std::string check_every_split(const reader_options& options,
                                     std::string_view input,
                                     const std::vector<seen>& expected) {
    for (std::size_t k = 0; k <= input.size(); ++k) {
        message_reader r(options);
        http::byte_buffer msg;
        auto got = feed(r, input, {k}, msg);
        if (got != expected) {
            std::ostringstream os;
            os << "split at " << k << ": got " << got << " expected " << expected;
            return os.str();
        }
    }
    std::vector<std::size_t> every;
    for (std::size_t k = 1; k < input.size(); ++k) every.push_back(k);
    message_reader r(options);
    http::byte_buffer msg;
    auto got = feed(r, input, every, msg);
    if (got != expected) {
        std::ostringstream os;
        os << "byte at a time: got " << got << " expected " << expected;
        return os.str();
    }
    return {};
}

}  // namespace fastfork::websocket::test
