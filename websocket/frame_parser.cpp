#include "websocket/frame_parser.hpp"

#include <cstring>

namespace fastfork::websocket {

void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask, std::size_t offset) noexcept {
    // RFC 6455 §5.3: byte i of the payload is XORed with mask[i % 4]. The mask rotated to
    // `offset`, repeated to 8 bytes, lets us XOR a word at a time; memcpy keeps unaligned
    // access well-defined and compiles to plain loads and stores.
    unsigned char m[8];
    for (std::size_t i = 0; i < 8; ++i) m[i] = mask[(offset + i) & 3];
    std::uint64_t w;
    std::memcpy(&w, m, 8);
    std::size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        std::uint64_t v[4];
        std::memcpy(v, data + i, 32);
        v[0] ^= w;
        v[1] ^= w;
        v[2] ^= w;
        v[3] ^= w;
        std::memcpy(data + i, v, 32);
    }
    for (; i + 8 <= size; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, data + i, 8);
        v ^= w;
        std::memcpy(data + i, &v, 8);
    }
    for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ m[i & 7]);
}

void frame_parser::reset() noexcept {
    frame_parser_options keep = options_;
    *this = frame_parser(keep);
}

frame_parser::result frame_parser::fail(close_code code, std::size_t consumed) noexcept {
    state_ = state::failed;
    error_ = code;
    result r;
    r.kind = status::error;
    r.consumed = consumed;
    r.error = code;
    return r;
}

namespace {

// The header's size once its first two bytes are known.
std::size_t header_size_for(std::uint8_t b1) noexcept {
    std::size_t n = 2;
    std::uint8_t len7 = b1 & 0x7F;
    if (len7 == 126) n += 2;
    if (len7 == 127) n += 8;
    if (b1 & 0x80) n += 4;
    return n;
}

}  // namespace

frame_parser::result frame_parser::parse(char* data, std::size_t size) noexcept {
    if (state_ == state::failed) {
        result r;
        r.kind = status::error;
        r.error = error_;
        return r;
    }
    std::size_t pos = 0;
    if (state_ == state::header) {
        // Gather the header: straight from the input when it is all there (the usual case),
        // else through header_bytes_ across calls.
        const auto* in = reinterpret_cast<const std::uint8_t*>(data);
        const std::uint8_t* h = nullptr;
        std::size_t need = 0;
        if (header_size_ == 0 && size >= 2 && size >= header_size_for(in[1])) {
            h = in;
            need = header_size_for(in[1]);
            pos = need;
        } else {
            while (pos < size) {
                std::size_t want = header_size_ < 2 ? 2 : header_size_for(header_bytes_[1]);
                if (header_size_ == want) break;
                header_bytes_[header_size_++] = in[pos++];
            }
            if (header_size_ < 2 || header_size_ < header_size_for(header_bytes_[1])) {
                // Reject what the first two bytes already rule out before waiting for the rest.
                if (header_size_ >= 2) {
                    // Validation below needs the whole header; the cheap checks run early here.
                    std::uint8_t b0 = header_bytes_[0], b1 = header_bytes_[1];
                    auto op = static_cast<opcode>(b0 & 0x0F);
                    if ((b0 & 0x30) || (options_.require_mask && !(b1 & 0x80)) ||
                        (is_control(op) && (!(b0 & 0x80) || (b1 & 0x7F) > 125)))
                        return fail(close_code::protocol_error, pos);
                }
                result r;
                r.consumed = pos;
                return r;
            }
            h = header_bytes_.data();
            need = header_size_;
        }

        std::uint8_t b0 = h[0], b1 = h[1];
        frame_header fh;
        fh.fin = (b0 & 0x80) != 0;
        fh.rsv1 = (b0 & 0x40) != 0;
        fh.op = static_cast<opcode>(b0 & 0x0F);
        fh.masked = (b1 & 0x80) != 0;
        std::uint64_t len = b1 & 0x7F;
        std::size_t at = 2;
        if (len == 126) {
            len = std::uint64_t(h[2]) << 8 | h[3];
            at = 4;
        } else if (len == 127) {
            len = 0;
            for (int i = 0; i < 8; ++i) len = len << 8 | h[2 + i];
            at = 10;
            // §5.2: "the most significant bit MUST be 0".
            if (len >> 63) return fail(close_code::protocol_error, pos);
        }
        fh.length = len;
        if (fh.masked) std::memcpy(fh.mask.data(), h + at, 4);
        (void)need;
        header_size_ = 0;

        std::uint8_t opv = b0 & 0x0F;
        bool control = is_control(fh.op);
        // §5.2: opcodes 3-7 and 0xB-0xF are reserved.
        if ((opv >= 3 && opv <= 7) || opv >= 0xB) return fail(close_code::protocol_error, pos);
        // §5.2: RSV2 and RSV3 need an extension we never negotiate; RSV1 only permessage-deflate,
        // which sets it on a message's first frame only (RFC 7692 §6).
        if (b0 & 0x30) return fail(close_code::protocol_error, pos);
        if (fh.rsv1 && (!options_.allow_rsv1 || control || fh.op == opcode::continuation))
            return fail(close_code::protocol_error, pos);
        // §5.1: a server MUST close on an unmasked client frame.
        if (options_.require_mask && !fh.masked) return fail(close_code::protocol_error, pos);
        if (control) {
            // §5.5: control frames carry at most 125 bytes and are never fragmented. The 7-bit
            // length is checked, so an extended encoding of a small length fails too, the same
            // as when the header arrives in pieces and the first two bytes decide.
            if (!fh.fin || (b1 & 0x7F) > 125) return fail(close_code::protocol_error, pos);
        } else if (fh.op == opcode::continuation) {
            // §5.4: a continuation needs a message in progress.
            if (!in_message_) return fail(close_code::protocol_error, pos);
        } else {
            // §5.4: a new data message may not start inside a fragmented one.
            if (in_message_) return fail(close_code::protocol_error, pos);
            message_op_ = fh.op;
            message_compressed_ = fh.rsv1;
            message_size_ = 0;
            in_message_ = true;
        }
        if (!control) {
            // Compressed messages are bounded after inflating (message_reader), since their wire
            // size may legitimately exceed the limit by a little.
            if (!message_compressed_ && len > options_.max_message - message_size_)
                return fail(close_code::message_too_big, pos);
            message_size_ += len;
        }
        header_ = fh;
        remaining_ = len;
        mask_offset_ = 0;
        first_pending_ = true;
        state_ = state::payload;
    }

    // Payload: hand out what is here (an empty chunk for a zero-length frame).
    std::size_t avail = size - pos;
    std::size_t n = remaining_ < avail ? static_cast<std::size_t>(remaining_) : avail;
    if (n == 0 && remaining_ != 0) {
        result r;
        r.consumed = pos;
        return r;
    }
    if (header_.masked) unmask(data + pos, n, header_.mask, mask_offset_);
    mask_offset_ = static_cast<std::uint32_t>((mask_offset_ + n) & 3);
    remaining_ -= n;
    result r;
    r.kind = status::chunk;
    r.consumed = pos + n;
    r.payload = std::string_view(data + pos, n);
    r.first = first_pending_;
    r.last = remaining_ == 0;
    first_pending_ = false;
    if (r.last) {
        state_ = state::header;
        if (!is_control(header_.op) && header_.fin) in_message_ = false;
    }
    return r;
}

}  // namespace fastfork::websocket
