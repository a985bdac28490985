#include "websocket/deflate_stream.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include "frames.hpp"
#include "websocket/deflate_offer.hpp"
#include "websocket/frame_writer.hpp"
#include "websocket/message_reader.hpp"

using namespace fastfork::websocket;
using namespace fastfork::websocket::test;
using namespace std::literals;
using fastfork::http::byte_buffer;

namespace {

deflate_config enabled() {
    deflate_config c;
    c.enabled = true;
    return c;
}

std::string answer(std::string_view offer, const deflate_config& c = enabled()) {
    deflate_params p;
    if (!negotiate_deflate(offer, c, p)) return "declined";
    byte_buffer out;
    write_deflate_answer(p, out);
    return std::string(out.view());
}

// Events for `input` through a reader with an inflater of `params` (unmasked: the RFC 7692
// examples are server frames), whole and at every split.
std::vector<seen> inflate_events(const std::string& input,
                                 const deflate_params& params = {},
                                 std::uint64_t max_message = 1 << 20,
                                 bool masked = false) {
    reader_options o;
    o.require_mask = masked;
    o.max_message = max_message;
    inflater inf(params);
    message_reader r(o);
    r.set_inflater(&inf);
    byte_buffer msg;
    auto whole = feed(r, input, {}, msg);
    for (std::size_t k = 0; k <= input.size(); ++k) {
        inflater inf2(params);
        message_reader r2(o);
        r2.set_inflater(&inf2);
        auto split = feed(r2, input, {k}, msg);
        BOOST_TEST(split == whole, "split at " << k);
    }
    return whole;
}

seen text(std::string s) {
    return {event_type::message, opcode::text, std::move(s), close_code::no_status};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_deflate)

BOOST_AUTO_TEST_CASE(offer_parameters) {
    BOOST_TEST(answer("permessage-deflate") == "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    BOOST_TEST(answer("permessage-deflate; client_max_window_bits") ==
               "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    BOOST_TEST(answer("permessage-deflate; client_max_window_bits=10") ==
               "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    BOOST_TEST(answer("permessage-deflate;server_no_context_takeover;client_no_context_takeover") ==
               "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "client_no_context_takeover\r\n");
    BOOST_TEST(answer("permessage-deflate; server_max_window_bits=10") ==
               "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n");
    BOOST_TEST(answer("permessage-deflate; server_max_window_bits=\"12\"") ==
               "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n");
    // RFC 7692 §5.1 example: the first offer is declined (window 8), the second is taken.
    BOOST_TEST(answer("permessage-deflate; server_max_window_bits=8, permessage-deflate") ==
               "Sec-WebSocket-Extensions: permessage-deflate\r\n");
    // Our own configuration shows in the answer even when not offered.
    deflate_config c = enabled();
    c.server_no_context_takeover = true;
    c.client_no_context_takeover = true;
    c.server_max_window_bits = 11;
    BOOST_TEST(answer("permessage-deflate", c) ==
               "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "client_no_context_takeover; server_max_window_bits=11\r\n");
    BOOST_TEST(answer("permessage-deflate; server_max_window_bits=9", c) ==
               "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
               "client_no_context_takeover; server_max_window_bits=9\r\n");
}

BOOST_AUTO_TEST_CASE(bad_offers_are_declined) {
    for (std::string bad :
         {"permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=16",
          "permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=010",
          "permessage-deflate; client_max_window_bits=20", "permessage-deflate; unknown_param",
          "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
          "permessage-deflate; client_no_context_takeover=1", "x-webkit-deflate-frame", ""})
        BOOST_TEST(answer(bad) == "declined", bad);
    deflate_config off;
    BOOST_TEST(answer("permessage-deflate", off) == "declined");
}

// RFC 7692 §7.2.3, the examples as the client would send them (here unmasked, as printed).
BOOST_AUTO_TEST_CASE(rfc7692_hello_examples_inflate) {
    // §7.2.3.1: "Hello" in one compressed frame, and fragmented.
    BOOST_TEST(inflate_events("\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"s) == std::vector<seen>{text("Hello")});
    BOOST_TEST(inflate_events("\x41\x03\xf2\x48\xcd\x80\x04\xc9\xc9\x07\x00"s) == std::vector<seen>{text("Hello")});
    // §7.2.3.2: the second "Hello" refers to the first through the shared window.
    BOOST_TEST(inflate_events("\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x05\xf2\x00\x11\x00\x00"s) ==
               (std::vector<seen>{text("Hello"), text("Hello")}));
    // §7.2.3.3: a stored (uncompressed) block.
    BOOST_TEST(inflate_events("\xc1\x0b\x00\x05\x00\xfa\xff\x48\x65\x6c\x6c\x6f\x00"s) ==
               std::vector<seen>{text("Hello")});
    // §7.2.3.4: BFINAL set.
    BOOST_TEST(inflate_events("\xc1\x08\xf3\x48\xcd\xc9\xc9\x07\x00\x00"s) == std::vector<seen>{text("Hello")});
    // §7.2.3.5: two deflate blocks in one message.
    BOOST_TEST(inflate_events("\xc1\x0d\xf2\x48\x05\x00\x00\x00\xff\xff\xca\xc9\xc9\x07\x00"s) ==
               std::vector<seen>{text("Hello")});
}

BOOST_AUTO_TEST_CASE(deflater_produces_the_rfc_bytes_for_hello) {
    deflate_params p;
    deflater d(p);
    byte_buffer out;
    write_message(out, opcode::text, "Hello", &d);
    BOOST_TEST(out.view() == "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"s);
    out.clear();
    write_message(out, opcode::text, "Hello", &d);  // context takeover: §7.2.3.2's second frame
    BOOST_TEST(out.view() == "\xc1\x05\xf2\x00\x11\x00\x00"s);
    deflate_params fresh;
    fresh.server_no_context_takeover = true;
    deflater d2(fresh);
    out.clear();
    write_message(out, opcode::text, "Hello", &d2);
    write_message(out, opcode::text, "Hello", &d2);
    BOOST_TEST(out.view() == "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"s);
}

BOOST_AUTO_TEST_CASE(round_trips_with_and_without_context_takeover) {
    std::mt19937 rng(7);
    std::vector<std::string> messages = {"", "a", "Hello", std::string(100000, 'x'), ""};
    std::string random(70000, '\0');
    for (auto& c : random) c = static_cast<char>(rng());
    messages.push_back(random);  // incompressible: the compressed form is larger than the input
    std::string words;
    while (words.size() < 20000) words += "lorem ipsum dolor sit amet ";
    messages.push_back(words);
    for (bool no_takeover : {false, true}) {
        deflate_params p;
        p.server_no_context_takeover = no_takeover;
        p.client_no_context_takeover = no_takeover;
        deflater d(p);
        inflater inf(p);
        // The server's frames, inflated by a reader standing in for the client.
        byte_buffer wire;
        for (const auto& m : messages) write_message(wire, opcode::binary, m, &d);
        reader_options o;
        o.require_mask = false;
        message_reader r(o);
        r.set_inflater(&inf);
        byte_buffer msg;
        auto got = feed(r, std::string(wire.view()), {1, 5, 1000, 50000}, msg);
        BOOST_TEST_REQUIRE(got.size() == messages.size());
        for (std::size_t i = 0; i < messages.size(); ++i) BOOST_TEST(got[i].payload == messages[i]);
    }
}

BOOST_AUTO_TEST_CASE(compressed_masked_client_frames) {
    deflate_params p;
    deflater d(p);
    byte_buffer server;
    write_message(server, opcode::text, "caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9", &d);
    std::string compressed(server.view().substr(2));
    // The client sends it masked and fragmented in three pieces; RSV1 on the first only.
    std::string in = client_frame(opcode::text, compressed.substr(0, 3), false, true) +
                     client_frame(opcode::ping, "x") +
                     client_frame(opcode::continuation, compressed.substr(3, 2), false) +
                     client_frame(opcode::continuation, compressed.substr(5));
    BOOST_TEST(
        inflate_events(in, {}, 1 << 20, true) ==
        (std::vector<seen>{{event_type::ping, opcode::binary, "x"}, text("caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9")}));
    // RSV1 on a continuation is a protocol error.
    std::string bad = client_frame(opcode::text, compressed.substr(0, 3), false, true) +
                      client_frame(opcode::continuation, compressed.substr(3), true, true);
    BOOST_TEST(inflate_events(bad, {}, 1 << 20, true) ==
               (std::vector<seen>{{event_type::error, opcode::binary, "", close_code::protocol_error}}));
}

BOOST_AUTO_TEST_CASE(inflated_size_is_bounded_by_max_message) {
    deflate_params p;
    deflater d(p);
    byte_buffer wire;
    write_message(wire, opcode::binary, std::string(100000, 'z'), &d);  // a few hundred bytes on the wire
    BOOST_TEST(wire.size() < 1000u);
    auto got = inflate_events(std::string(wire.view()), {}, 99999);
    BOOST_TEST(got == (std::vector<seen>{{event_type::error, opcode::binary, "", close_code::message_too_big}}));
    got = inflate_events(std::string(wire.view()), {}, 100000);
    BOOST_TEST_REQUIRE(got.size() == 1u);
    BOOST_TEST(got[0].payload.size() == 100000u);
}

BOOST_AUTO_TEST_CASE(bad_deflate_data_is_1007_and_bad_text_too) {
    BOOST_TEST(inflate_events("\xc1\x03\xff\xff\xff"s) ==
               (std::vector<seen>{{event_type::error, opcode::binary, "", close_code::invalid_payload}}));
    deflate_params p;
    deflater d(p);
    byte_buffer wire;
    write_message(wire, opcode::text, "bad \xff text", &d);
    BOOST_TEST(inflate_events(std::string(wire.view())) ==
               (std::vector<seen>{{event_type::error, opcode::binary, "", close_code::invalid_payload}}));
}

BOOST_AUTO_TEST_CASE(steady_state_reuses_the_message_buffer) {
    deflate_params p;
    deflater d(p);
    inflater inf(p);
    reader_options o;
    o.require_mask = false;
    message_reader r(o);
    r.set_inflater(&inf);
    byte_buffer msg, wire;
    std::string payload(5000, 'q');
    write_message(wire, opcode::binary, payload, &d);
    (void)feed(r, std::string(wire.view()), {}, msg);
    std::size_t cap = msg.capacity();
    for (int i = 0; i < 50; ++i) {
        wire.clear();
        write_message(wire, opcode::binary, payload, &d);
        auto got = feed(r, std::string(wire.view()), {}, msg);
        BOOST_TEST_REQUIRE(got.size() == 1u);
        BOOST_TEST(got[0].payload == payload);
    }
    BOOST_TEST(msg.capacity() == cap);
}

BOOST_AUTO_TEST_SUITE_END()
