#include "websocket/message_reader.hpp"

#include <cstring>

#include "websocket/deflate_stream.hpp"

namespace fastfork::websocket {

namespace {

frame_parser_options parser_options(const reader_options& o) noexcept {
    frame_parser_options p;
    p.require_mask = o.require_mask;
    p.max_message = o.max_message;
    return p;
}

}  // namespace

message_reader::message_reader(const reader_options& options) noexcept
    : options_(options), parser_(parser_options(options)) {}

void message_reader::set_inflater(inflater* inf) noexcept {
    inflater_ = inf;
    parser_.set_allow_rsv1(inf != nullptr);
}

void message_reader::reset() noexcept {
    parser_.reset();
    utf8_.reset();
    closed_ = failed_ = false;
    error_ = close_code::protocol_error;
    control_size_ = 0;
}

event message_reader::fail(close_code code, std::size_t consumed) noexcept {
    failed_ = true;
    error_ = code;
    event e;
    e.type = event_type::error;
    e.code = code;
    e.consumed = consumed;
    return e;
}

event message_reader::finish_control(std::string_view payload, std::size_t consumed) noexcept {
    event e;
    e.consumed = consumed;
    e.payload = payload;
    switch (parser_.header().op) {
        case opcode::ping:
            e.type = event_type::ping;
            return e;
        case opcode::pong:
            e.type = event_type::pong;
            return e;
        default:
            break;
    }
    // RFC 6455 §5.5.1: an empty close, or a 2-byte code followed by a UTF-8 reason.
    e.type = event_type::close;
    if (payload.empty()) {
        e.code = close_code::no_status;
    } else {
        if (payload.size() == 1) return fail(close_code::protocol_error, consumed);
        auto code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                               static_cast<unsigned char>(payload[1]));
        if (!is_valid_received_close_code(code)) return fail(close_code::protocol_error, consumed);
        e.payload = payload.substr(2);
        if (!is_valid_utf8(e.payload)) return fail(close_code::invalid_payload, consumed);
        e.code = static_cast<close_code>(code);
    }
    closed_ = true;
    return e;
}

event message_reader::read(char* data, std::size_t size, http::byte_buffer& msg) noexcept {
    if (failed_) {
        event e;
        e.type = event_type::error;
        e.code = error_;
        return e;
    }
    if (closed_) {
        event e;
        e.consumed = size;  // §5.5.1: nothing may follow a close; ignore it
        return e;
    }
    std::size_t pos = 0;
    for (;;) {
        frame_parser::result r = parser_.parse(data + pos, size - pos);
        pos += r.consumed;
        if (r.kind == frame_parser::status::need_more) {
            event e;
            e.consumed = pos;
            return e;
        }
        if (r.kind == frame_parser::status::error) return fail(r.error, pos);

        const frame_header& h = parser_.header();
        if (is_control(h.op)) {
            if (r.first && r.last) return finish_control(r.payload, pos);
            if (r.first) control_size_ = 0;
            std::memcpy(control_.data() + control_size_, r.payload.data(), r.payload.size());
            control_size_ = static_cast<std::uint8_t>(control_size_ + r.payload.size());
            if (r.last) return finish_control(std::string_view(control_.data(), control_size_), pos);
            continue;
        }

        bool text = parser_.message_opcode() == opcode::text;
        bool compressed = parser_.message_compressed();
        bool message_end = r.last && h.fin;
        if (r.first && h.op != opcode::continuation) {
            msg.clear();
            utf8_.reset();
            // The common case: a whole uncompressed message in one frame in this input, handed
            // out where it lies.
            if (message_end && !compressed) {
                if (text && !is_valid_utf8(r.payload)) return fail(close_code::invalid_payload, pos);
                event e;
                e.type = event_type::message;
                e.op = h.op;
                e.payload = r.payload;
                e.consumed = pos;
                return e;
            }
        }
        std::size_t before = msg.size();
        inflater::status inflated = inflater::status::ok;
        if (compressed)
            inflated = inflater_->inflate(r.payload, message_end, msg, options_.max_message);
        else
            msg.append(r.payload);  // frame_parser bounds uncompressed messages by max_message
        // Check text as it arrives, so a bad message fails before it is all buffered. The bytes
        // inflated before a deflate failure are checked first, so that the error reported is
        // the earliest in the message however its bytes were split.
        if (text && !utf8_.feed(msg.view().substr(before))) return fail(close_code::invalid_payload, pos);
        switch (inflated) {
            case inflater::status::ok:
                break;
            case inflater::status::too_big:
                return fail(close_code::message_too_big, pos);
            case inflater::status::bad_data:
                return fail(close_code::invalid_payload, pos);
        }
        if (message_end) {
            if (text && !utf8_.is_complete()) return fail(close_code::invalid_payload, pos);
            event e;
            e.type = event_type::message;
            e.op = parser_.message_opcode();
            e.payload = msg.view();
            e.consumed = pos;
            return e;
        }
    }
}

}  // namespace fastfork::websocket
