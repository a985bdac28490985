// libFuzzer target for the WebSocket protocol layer: frame_parser through message_reader, with
// message assembly, UTF-8 validation and (when the first byte asks for it) permessage-deflate
// inflating. Besides crashes and sanitizer reports it checks the reader's contract: need_more
// consumes all input, consumed never exceeds it, text messages and close reasons are valid
// UTF-8, no message exceeds max_message, and the events are the same whether the bytes arrive at
// once or split at a point derived from the input (so the fuzzer steers it).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "http/byte_buffer.hpp"
#include "websocket/deflate_stream.hpp"
#include "websocket/message_reader.hpp"
#include "websocket/utf8.hpp"

using namespace fastfork;
using namespace fastfork::websocket;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "websocket_fuzz: invariant violated: %s\n", what);
    std::abort();
}

struct seen {
    event_type type;
    opcode op;
    std::string payload;
    close_code code;
    bool operator==(const seen&) const = default;
};

// Feeds `input` in two pieces (each its own buffer) split at `cut`; records the events.
std::vector<seen> run(
    const std::string& input, std::size_t cut, const reader_options& o, bool deflate, bool no_takeover) {
    deflate_params p;
    p.client_no_context_takeover = no_takeover;
    inflater inf(p);
    message_reader reader(o);
    if (deflate) reader.set_inflater(&inf);
    http::byte_buffer msg;
    std::vector<seen> out;
    for (int part = 0; part < 2; ++part) {
        std::string piece = part == 0 ? input.substr(0, cut) : input.substr(cut);
        for (std::size_t pos = 0;;) {
            event ev = reader.read(piece.data() + pos, piece.size() - pos, msg);
            check(ev.consumed <= piece.size() - pos, "consumed beyond the input");
            pos += ev.consumed;
            if (ev.type == event_type::need_more) {
                check(pos == piece.size(), "need_more left input unconsumed");
                break;
            }
            if (ev.type == event_type::message) {
                check(ev.payload.size() <= o.max_message, "message over max_message");
                if (ev.op == opcode::text) check(is_valid_utf8(ev.payload), "text message not UTF-8");
                check(ev.op == opcode::text || ev.op == opcode::binary, "message opcode");
            }
            if (ev.type == event_type::ping || ev.type == event_type::pong)
                check(ev.payload.size() <= 125, "control payload over 125 bytes");
            if (ev.type == event_type::close) check(is_valid_utf8(ev.payload), "close reason not UTF-8");
            out.push_back({ev.type, ev.op, std::string(ev.payload), ev.code});
            if (ev.type == event_type::error) return out;
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    // Byte 0: bit 0 permessage-deflate, bit 1 client_no_context_takeover, bit 2 unmasked frames
    // allowed, bits 3-7 max_message (small values reach the 1009 paths). Byte 1: the split point.
    std::uint8_t flags = data[0];
    reader_options o;
    o.require_mask = !(flags & 4);
    o.max_message = (flags >> 3) == 31 ? (16u << 20) : std::uint64_t(flags >> 3) * 97;
    bool deflate = flags & 1;
    bool no_takeover = flags & 2;
    std::string input(reinterpret_cast<const char*>(data + 2), size - 2);
    std::size_t cut = input.empty() ? 0 : data[1] % (input.size() + 1);

    auto whole = run(input, input.size(), o, deflate, no_takeover);
    auto split = run(input, cut, o, deflate, no_takeover);
    check(whole == split, "split input gave different events");
    return 0;
}
