// The steady state of a WebSocket echo allocates nothing: read a client message (whole,
// fragmented, compressed), answer pings, write the echo, 10,000 times, with malloc, calloc and
// realloc counted (byte_buffer and zlib allocate through them, and libstdc++'s operator new
// calls malloc). Its own executable, built only without sanitizers, which own malloc.

#include "websocket/message_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "../frames.hpp"
#include "websocket/deflate_stream.hpp"
#include "websocket/frame_writer.hpp"

namespace {
std::atomic<std::uint64_t> malloc_calls{0};
}

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
void free(void* p) noexcept {
    __libc_free(p);
}
}

using namespace fastfork::websocket;
using namespace fastfork::websocket::test;
using fastfork::http::byte_buffer;

namespace {

// One round: every event of `wire` (a copy in `in`, since unmasking is in place) is answered as
// an echo session would, into `out`. Returns the number of messages echoed.
int echo_round(message_reader& reader,
               const std::string& wire,
               std::string& in,
               byte_buffer& msg,
               byte_buffer& out,
               deflater* compressor) {
    in.assign(wire);  // same size every round: keeps its capacity
    out.clear();
    int messages = 0;
    for (std::size_t pos = 0;;) {
        event ev = reader.read(in.data() + pos, in.size() - pos, msg);
        pos += ev.consumed;
        if (ev.type == event_type::need_more) break;
        if (ev.type == event_type::message) {
            write_message(out, ev.op, ev.payload, compressor);
            ++messages;
        } else if (ev.type == event_type::ping) {
            write_pong(out, ev.payload);
        } else {
            return -1;
        }
    }
    return messages;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_alloc)

BOOST_AUTO_TEST_CASE(steady_state_echo_allocates_nothing) {
    std::string payload(64, 'm');
    std::string plain = client_frame(opcode::text, payload) +
                        client_frame(opcode::binary, payload.substr(0, 20), false) + client_frame(opcode::ping, "hb") +
                        client_frame(opcode::continuation, payload.substr(20));
    message_reader reader;
    byte_buffer msg, out;
    std::string in;
    for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(echo_round(reader, plain, in, msg, out, nullptr) == 2);
    std::uint64_t before = malloc_calls.load();
    for (int i = 0; i < 10000; ++i)
        if (echo_round(reader, plain, in, msg, out, nullptr) != 2) BOOST_FAIL("echo failed");
    BOOST_TEST(malloc_calls.load() - before == 0u);
}

BOOST_AUTO_TEST_CASE(steady_state_compressed_echo_allocates_nothing) {
    for (bool no_takeover : {false, true}) {
        deflate_params p;
        p.server_no_context_takeover = p.client_no_context_takeover = no_takeover;
        // The client's compressor is stood in for by a deflater of the same parameters.
        deflater client(p), server(p);
        inflater inf(p);
        message_reader reader;
        reader.set_inflater(&inf);
        byte_buffer compressed;
        std::string payload(64, 'c');
        write_message(compressed, opcode::text, payload, &client);
        std::string wire = client_frame(opcode::text, compressed.view().substr(2), true, true);
        if (!no_takeover) {
            // With context takeover each message depends on the ones before, so use a message
            // that compresses the same in any context: a stored block, then the
            // empty block's header byte whose LEN/NLEN the receiver's tail supplies (§7.2.3.3).
            wire = client_frame(opcode::text, std::string("\x00\x40\x00\xbf\xff", 5) + payload + '\0', true, true);
        }
        byte_buffer msg, out;
        std::string in;
        for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(echo_round(reader, wire, in, msg, out, &server) == 1);
        std::uint64_t before = malloc_calls.load();
        for (int i = 0; i < 10000; ++i)
            if (echo_round(reader, wire, in, msg, out, &server) != 1) BOOST_FAIL("echo failed");
        BOOST_TEST(malloc_calls.load() - before == 0u, "no_context_takeover " << no_takeover);
    }
}

BOOST_AUTO_TEST_CASE(counting_sees_allocations) {
    // The counter itself works: a growing buffer is counted.
    std::uint64_t before = malloc_calls.load();
    byte_buffer b;
    b.reserve(1 << 20);
    BOOST_TEST(malloc_calls.load() - before >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
