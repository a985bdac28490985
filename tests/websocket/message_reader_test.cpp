#include "websocket/message_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

#include "frames.hpp"
#include "websocket/deflate_stream.hpp"

using namespace fastfork::websocket;
using namespace fastfork::websocket::test;
using namespace std::literals;
using fastfork::http::byte_buffer;

namespace {

reader_options unmasked_ok() {
    reader_options o;
    o.require_mask = false;  // the RFC's examples are server frames, which are not masked
    return o;
}

seen message(opcode op, std::string payload) {
    return {event_type::message, op, std::move(payload), close_code::no_status};
}
seen error(close_code c) {
    return {event_type::error, opcode::binary, "", c};
}

// Whole input and every split of it give `expected`.
void expect_events(const reader_options& o, const std::string& input, const std::vector<seen>& expected) {
    BOOST_TEST(feed_whole(o, input) == expected);
    std::string problem = check_every_split(o, input, expected);
    BOOST_TEST(problem.empty(), problem);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_message_reader)

// RFC 6455 §5.7, one case per example.
BOOST_AUTO_TEST_CASE(rfc_single_frame_unmasked_text) {
    expect_events(unmasked_ok(), "\x81\x05\x48\x65\x6c\x6c\x6f"s, {message(opcode::text, "Hello")});
}

BOOST_AUTO_TEST_CASE(rfc_single_frame_masked_text) {
    expect_events({}, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"s, {message(opcode::text, "Hello")});
}

BOOST_AUTO_TEST_CASE(rfc_fragmented_unmasked_text) {
    expect_events(unmasked_ok(), "\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"s, {message(opcode::text, "Hello")});
}

BOOST_AUTO_TEST_CASE(rfc_ping_and_masked_pong) {
    expect_events(unmasked_ok(), "\x89\x05\x48\x65\x6c\x6c\x6f"s, {{event_type::ping, opcode::binary, "Hello"}});
    expect_events({}, "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"s, {{event_type::pong, opcode::binary, "Hello"}});
}

BOOST_AUTO_TEST_CASE(rfc_256_bytes_and_64_kib_binary) {
    std::string small(256, 'x'), big(65536, 'y');
    expect_events(unmasked_ok(), "\x82\x7E\x01\x00"s + small, {message(opcode::binary, small)});
    // The 64 KiB example: only the two-piece splits near the header (the full loop is O(n^2)).
    std::string frame = "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"s + big;
    BOOST_TEST(feed_whole(unmasked_ok(), frame) == std::vector<seen>{message(opcode::binary, big)});
    for (std::size_t k : {1, 2, 5, 9, 10, 11, 4000, 65545}) {
        message_reader r(unmasked_ok());
        byte_buffer msg;
        BOOST_TEST(feed(r, frame, {k}, msg) == std::vector<seen>{message(opcode::binary, big)});
    }
}

BOOST_AUTO_TEST_CASE(masked_payload_of_every_length_and_offset_unmasks) {
    // Word-at-a-time unmasking: every length around the 8- and 32-byte strides, split anywhere.
    for (std::size_t n = 0; n < 70; ++n) {
        std::string payload;
        for (std::size_t i = 0; i < n; ++i) payload += static_cast<char>('a' + i % 26);
        expect_events({}, client_frame(opcode::binary, payload, true, false, true, 0xa1b2c3d4),
                      {message(opcode::binary, payload)});
    }
}

BOOST_AUTO_TEST_CASE(control_frames_interleave_with_fragments) {
    std::string in = client_frame(opcode::text, "Hel", false) + client_frame(opcode::ping, "p1") +
                     client_frame(opcode::continuation, "lo ", false) + client_frame(opcode::pong, "") +
                     client_frame(opcode::continuation, "world", true) + client_frame(opcode::binary, "\x00\xff"s);
    expect_events({}, in,
                  {{event_type::ping, opcode::binary, "p1"},
                   {event_type::pong, opcode::binary, ""},
                   message(opcode::text, "Hello world"),
                   message(opcode::binary, "\x00\xff"s)});
}

BOOST_AUTO_TEST_CASE(empty_messages_and_empty_fragments) {
    std::string in = client_frame(opcode::text, "") + client_frame(opcode::binary, "", false) +
                     client_frame(opcode::continuation, "", false) + client_frame(opcode::continuation, "");
    expect_events({}, in, {message(opcode::text, ""), message(opcode::binary, "")});
}

BOOST_AUTO_TEST_CASE(utf8_split_inside_a_code_point_across_fragments) {
    std::string euro = "\xe2\x82\xac";  // U+20AC
    std::string in = client_frame(opcode::text, "a" + euro.substr(0, 1), false) +
                     client_frame(opcode::continuation, euro.substr(1, 1), false) +
                     client_frame(opcode::continuation, euro.substr(2) + "\xf0\x9f\x98\x80");
    expect_events({}, in, {message(opcode::text, "a" + euro + "\xf0\x9f\x98\x80")});
}

BOOST_AUTO_TEST_CASE(close_frames) {
    expect_events({}, client_frame(opcode::close, ""),
                  {{event_type::close, opcode::binary, "", close_code::no_status}});
    expect_events({},
                  client_frame(opcode::close,
                               "\x03\xe8"s
                               "bye"),
                  {{event_type::close, opcode::binary, "bye", close_code::normal}});
    expect_events({}, client_frame(opcode::close, "\x0f\xa0"s),  // 4000: private use
                  {{event_type::close, opcode::binary, "", static_cast<close_code>(4000)}});
    // Whatever follows a close is ignored.
    expect_events({}, client_frame(opcode::close, "\x03\xe9"s) + client_frame(opcode::text, "late"),
                  {{event_type::close, opcode::binary, "", close_code::going_away}});
}

// Bad input, each with the close code RFC 6455 asks for.
BOOST_AUTO_TEST_CASE(unmasked_client_frame_is_1002) {
    expect_events({}, client_frame(opcode::text, "Hello", true, false, false), {error(close_code::protocol_error)});
}

BOOST_AUTO_TEST_CASE(reserved_bits_and_opcodes_are_1002) {
    for (int op : {3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf})
        expect_events({}, client_frame(static_cast<opcode>(op), "x"), {error(close_code::protocol_error)});
    std::string rsv2 = client_frame(opcode::text, "x");
    rsv2[0] = static_cast<char>(rsv2[0] | 0x20);
    expect_events({}, rsv2, {error(close_code::protocol_error)});
    std::string rsv3 = client_frame(opcode::text, "x");
    rsv3[0] = static_cast<char>(rsv3[0] | 0x10);
    expect_events({}, rsv3, {error(close_code::protocol_error)});
    // RSV1 without permessage-deflate.
    expect_events({}, client_frame(opcode::text, "x", true, true), {error(close_code::protocol_error)});
}

BOOST_AUTO_TEST_CASE(bad_control_frames_are_1002) {
    expect_events({}, client_frame(opcode::ping, std::string(126, 'p')), {error(close_code::protocol_error)});
    expect_events({}, client_frame(opcode::ping, "x", false), {error(close_code::protocol_error)});
    expect_events({}, client_frame(opcode::close, "\x03"s), {error(close_code::protocol_error)});
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        std::string p{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
        expect_events({}, client_frame(opcode::close, p), {error(close_code::protocol_error)});
    }
    // A ping of exactly 125 bytes is fine.
    expect_events({}, client_frame(opcode::ping, std::string(125, 'p')),
                  {{event_type::ping, opcode::binary, std::string(125, 'p')}});
}

BOOST_AUTO_TEST_CASE(fragmentation_errors_are_1002) {
    expect_events({}, client_frame(opcode::continuation, "x"), {error(close_code::protocol_error)});
    expect_events({}, client_frame(opcode::text, "a", false) + client_frame(opcode::text, "b"),
                  {error(close_code::protocol_error)});
    expect_events({}, client_frame(opcode::binary, "a", false) + client_frame(opcode::binary, "b", false),
                  {error(close_code::protocol_error)});
}

BOOST_AUTO_TEST_CASE(length_with_msb_set_is_1002) {
    std::string f = "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00"s;
    expect_events({}, f, {error(close_code::protocol_error)});
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_1007) {
    for (std::string bad : {"\xff"s, "\xc0\xaf"s, "\xed\xa0\x80"s, "\xf4\x90\x80\x80"s, "a\x80"s, "\xe2\x82"s})
        expect_events({}, client_frame(opcode::text, bad), {error(close_code::invalid_payload)});
    // Fragmented: the message ends inside a code point.
    expect_events({}, client_frame(opcode::text, "\xe2\x82"s, false) + client_frame(opcode::continuation, ""),
                  {error(close_code::invalid_payload)});
    // A close reason must be UTF-8 too.
    expect_events({}, client_frame(opcode::close, "\x03\xe8\xff"s), {error(close_code::invalid_payload)});
    // Binary messages are not checked.
    expect_events({}, client_frame(opcode::binary, "\xff"s), {message(opcode::binary, "\xff"s)});
}

BOOST_AUTO_TEST_CASE(invalid_utf8_fails_before_the_message_ends) {
    message_reader r;
    byte_buffer msg;
    auto got = feed(r, client_frame(opcode::text, "ok\xff", false), {}, msg);
    BOOST_TEST(got == std::vector<seen>{error(close_code::invalid_payload)});
}

BOOST_AUTO_TEST_CASE(over_max_message_is_1009) {
    reader_options o;
    o.max_message = 10;
    expect_events(o, client_frame(opcode::binary, std::string(10, 'x')),
                  {message(opcode::binary, std::string(10, 'x'))});
    expect_events(o, client_frame(opcode::binary, std::string(11, 'x')), {error(close_code::message_too_big)});
    // The limit is on the message, across fragments.
    expect_events(o, client_frame(opcode::text, "123456", false) + client_frame(opcode::continuation, "7890!"),
                  {error(close_code::message_too_big)});
}

BOOST_AUTO_TEST_CASE(errors_are_sticky) {
    message_reader r;
    byte_buffer msg;
    std::string bad = client_frame(opcode::continuation, "x");
    auto e1 = r.read(bad.data(), bad.size(), msg);
    BOOST_TEST(int(e1.type) == int(event_type::error));
    std::string good = client_frame(opcode::text, "x");
    auto e2 = r.read(good.data(), good.size(), msg);
    BOOST_TEST(int(e2.type) == int(event_type::error));
    BOOST_TEST(e2.consumed == 0u);
    r.reset();
    auto e3 = r.read(good.data(), good.size(), msg);
    BOOST_TEST(int(e3.type) == int(event_type::message));
}

BOOST_AUTO_TEST_CASE(whole_frames_are_delivered_without_a_copy) {
    message_reader r;
    byte_buffer msg;
    std::string in = client_frame(opcode::text, "Hello");
    auto ev = r.read(in.data(), in.size(), msg);
    BOOST_TEST(int(ev.type) == int(event_type::message));
    BOOST_TEST(static_cast<const void*>(ev.payload.data()) ==
               static_cast<const void*>(in.data() + 6));  // in place, after the 2+4 byte header
    BOOST_TEST(msg.empty());
    BOOST_TEST(r.is_idle());
}

BOOST_AUTO_TEST_CASE(message_buffer_is_reused_without_growing) {
    // Steady state: once the buffer has held the largest message, assembling more messages of
    // that size keeps its storage (no allocation per message).
    message_reader r;
    byte_buffer msg;
    std::string payload(3000, 'z');
    std::string in = client_frame(opcode::binary, payload.substr(0, 1000), false) +
                     client_frame(opcode::continuation, payload.substr(1000));
    feed(r, in, {500}, msg);
    const void* storage = msg.data();
    std::size_t cap = msg.capacity();
    for (int i = 0; i < 100; ++i) {
        auto got = feed(r, in, {500, 1500}, msg);
        BOOST_TEST(got == std::vector<seen>{message(opcode::binary, payload)});
    }
    BOOST_TEST(static_cast<const void*>(msg.data()) == storage);
    BOOST_TEST(msg.capacity() == cap);
}

BOOST_AUTO_TEST_CASE(idle_only_between_messages) {
    message_reader r;
    byte_buffer msg;
    std::string first = client_frame(opcode::text, "ab", false);
    BOOST_TEST(r.is_idle());
    (void)r.read(first.data(), first.size(), msg);
    BOOST_TEST(!r.is_idle());
    std::string ping = client_frame(opcode::ping, "");
    (void)r.read(ping.data(), ping.size(), msg);
    BOOST_TEST(!r.is_idle());
    std::string last = client_frame(opcode::continuation, "c");
    auto ev = r.read(last.data(), last.size(), msg);
    BOOST_TEST(ev.payload == "abc");
    BOOST_TEST(r.is_idle());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(websocket_message_reader_regressions)

// Found by websocket_fuzz: a ping whose 7-bit length is 126 (a 16-bit length of 5 follows) was
// accepted when the header came whole and rejected when it came in pieces.
BOOST_AUTO_TEST_CASE(control_frame_with_extended_length_is_1002) {
    std::string f = "\x89\xfe\x00\x05\x37\xfa\x21\x3d"s + "\x7f\x9f\x4d\x51\x58"s;
    expect_events({}, f, {error(close_code::protocol_error)});
}

BOOST_AUTO_TEST_SUITE_END()
