#include "websocket/frame_writer.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

#include "frames.hpp"

using namespace fastfork::websocket;
using namespace std::literals;
using fastfork::http::byte_buffer;

BOOST_AUTO_TEST_SUITE(websocket_frame_writer)

// RFC 6455 §5.7: the unmasked (server) examples, byte for byte.
BOOST_AUTO_TEST_CASE(writes_the_rfc_examples) {
    byte_buffer out;
    write_frame(out, opcode::text, "Hello");
    BOOST_TEST(out.view() == "\x81\x05\x48\x65\x6c\x6c\x6f"s);
    out.clear();
    write_frame(out, opcode::text, "Hel", false);
    write_frame(out, opcode::continuation, "lo");
    BOOST_TEST(out.view() == "\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"s);
    out.clear();
    write_ping(out, "Hello");
    BOOST_TEST(out.view() == "\x89\x05\x48\x65\x6c\x6c\x6f"s);
    out.clear();
    write_frame(out, opcode::binary, std::string(256, 'x'));
    BOOST_TEST(out.view().substr(0, 4) == "\x82\x7E\x01\x00"s);
    BOOST_TEST(out.size() == 260u);
    out.clear();
    write_frame(out, opcode::binary, std::string(65536, 'y'));
    BOOST_TEST(out.view().substr(0, 10) == "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"s);
    BOOST_TEST(out.size() == 65546u);
}

BOOST_AUTO_TEST_CASE(length_encodings_at_their_edges) {
    char h[max_frame_header];
    BOOST_TEST(encode_frame_header(h, opcode::binary, 125) == 2u);
    BOOST_TEST(encode_frame_header(h, opcode::binary, 126) == 4u);
    BOOST_TEST(encode_frame_header(h, opcode::binary, 65535) == 4u);
    BOOST_TEST(encode_frame_header(h, opcode::binary, 65536) == 10u);
    BOOST_TEST(encode_frame_header(h, opcode::binary, (1ull << 40) + 5) == 10u);
    BOOST_TEST(std::string(h, 10) == "\x82\x7F\x00\x00\x01\x00\x00\x00\x00\x05"s);
}

BOOST_AUTO_TEST_CASE(close_frames_carry_code_and_reason) {
    byte_buffer out;
    write_close(out, close_code::going_away, "shutting down");
    BOOST_TEST(out.view() == "\x88\x0f\x03\xe9shutting down"s);
    out.clear();
    write_close(out, close_code::no_status);
    BOOST_TEST(out.view() == "\x88\x00"s);
    out.clear();
    // A reason longer than 123 bytes is cut at a code point boundary: 41 euro signs are 123
    // bytes, so 42 are cut to 41, never to 123 bytes ending inside one.
    std::string euros;
    for (int i = 0; i < 42; ++i) euros += "\xe2\x82\xac";
    write_close(out, close_code::message_too_big, euros);
    BOOST_TEST(out.size() == 2u + 2u + 123u);
    BOOST_TEST(out.view().substr(4) == euros.substr(0, 123));
    out.clear();
    std::string mixed = "a" + euros;  // 1 + 126 bytes: the cut falls inside a euro sign
    write_close(out, close_code::normal, mixed);
    BOOST_TEST(out.size() == 2u + 2u + 121u);
}

BOOST_AUTO_TEST_CASE(what_we_write_our_parser_reads) {
    // Server frames parse back (with require_mask off) to the same messages.
    byte_buffer out;
    write_message(out, opcode::text, "round trip");
    write_pong(out, std::string(200, 'p'));  // cut to 125
    write_close(out, close_code::internal_error, "oops");
    reader_options o;
    o.require_mask = false;
    auto got = test::feed_whole(o, std::string(out.view()));
    BOOST_TEST(got ==
               (std::vector<test::seen>{{event_type::message, opcode::text, "round trip"},
                                        {event_type::pong, opcode::binary, std::string(125, 'p')},
                                        {event_type::close, opcode::binary, "oops", close_code::internal_error}}));
}

BOOST_AUTO_TEST_SUITE_END()
