#include "websocket/frame_writer.hpp"

#include <cstring>

#include "websocket/deflate_stream.hpp"

namespace fastfork::websocket {

std::size_t encode_frame_header(char* out, opcode op, std::uint64_t payload_size, bool fin, bool rsv1) noexcept {
    auto* p = reinterpret_cast<unsigned char*>(out);
    p[0] = static_cast<unsigned char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<unsigned>(op));
    // RFC 6455 §5.2: 7-bit length, or 126 + 16 bits, or 127 + 64 bits (MSB zero), shortest form.
    if (payload_size < 126) {
        p[1] = static_cast<unsigned char>(payload_size);
        return 2;
    }
    if (payload_size <= 0xFFFF) {
        p[1] = 126;
        p[2] = static_cast<unsigned char>(payload_size >> 8);
        p[3] = static_cast<unsigned char>(payload_size);
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
    return 10;
}

void write_frame(http::byte_buffer& out, opcode op, std::string_view payload, bool fin, bool rsv1) {
    char* p = out.prepare(max_frame_header + payload.size());
    std::size_t h = encode_frame_header(p, op, payload.size(), fin, rsv1);
    if (!payload.empty()) std::memcpy(p + h, payload.data(), payload.size());
    out.commit(h + payload.size());
}

void write_message(http::byte_buffer& out, opcode op, std::string_view payload, deflater* compressor) {
    if (!compressor) {
        write_frame(out, op, payload);
        return;
    }
    // Compress behind room for the longest header, then slide the payload down to the real one.
    std::size_t start = out.size();
    out.resize(start + max_frame_header);
    compressor->deflate(payload, out);
    std::size_t size = out.size() - start - max_frame_header;
    char header[max_frame_header];
    std::size_t h = encode_frame_header(header, op, size, true, true);
    char* base = out.data() + start;
    if (h != max_frame_header) std::memmove(base + h, base + max_frame_header, size);
    std::memcpy(base, header, h);
    out.resize(start + h + size);
}

namespace {

// The longest prefix of `s` no longer than `limit` that does not cut a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t limit) noexcept {
    if (s.size() <= limit) return s;
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

}  // namespace

void write_close(http::byte_buffer& out, close_code code, std::string_view reason) {
    if (code == close_code::no_status) {
        write_frame(out, opcode::close, {});
        return;
    }
    if (code == close_code::abnormal) code = close_code::internal_error;
    reason = utf8_prefix(reason, max_close_reason);
    char payload[max_control_payload];
    auto value = static_cast<std::uint16_t>(code);
    payload[0] = static_cast<char>(value >> 8);
    payload[1] = static_cast<char>(value & 0xFF);
    if (!reason.empty()) std::memcpy(payload + 2, reason.data(), reason.size());
    write_frame(out, opcode::close, std::string_view(payload, 2 + reason.size()));
}

void write_ping(http::byte_buffer& out, std::string_view payload) {
    write_frame(out, opcode::ping, payload.substr(0, max_control_payload));
}

void write_pong(http::byte_buffer& out, std::string_view payload) {
    write_frame(out, opcode::pong, payload.substr(0, max_control_payload));
}

}  // namespace fastfork::websocket
