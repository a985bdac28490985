#pragma once
// The WebSocket runtime (worker): the upgrade from a handler, and one session per hijacked
// connection that reads frames on the loop and runs the user's message callback on a pooled
// fiber. The protocol itself (handshake, frames, UTF-8, deflate) is websocket/.
//
// Why a callback and not a message loop (`while (auto m = ws.receive())`): a loop would keep
// its fiber, and its stack, for the whole life of the connection, waiting in receive(). With a
// callback the fiber is bound only while a message is being handled, exactly like a request on
// a keep-alive connection: an idle WebSocket costs its connection slot and this session (no
// fiber, no stack, no read buffer), and the fiber count is the number of messages in flight.
// Control frames never wake a fiber: pings are answered and the close handshake is run on the
// loop. Messages of one connection are handled one at a time, in order; while one is handled
// the connection is not read (TCP backpressure), and what is buffered behind it is handled on
// the same fiber before it goes back to the pool (as pipelined requests are).

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/byte_buffer.hpp"
#include "http/request_ctx.hpp"
#include "websocket/close_code.hpp"
#include "websocket/deflate_stream.hpp"
#include "websocket/handshake.hpp"
#include "websocket/message_reader.hpp"
#include "worker/hijack.hpp"
#include "worker/options.hpp"

namespace fastfork::worker {

namespace ws = ::fastfork::websocket;

class fiber;
class websocket_session;

/// One WebSocket, as a message callback sees it. Valid during the callback only.
class websocket_conn {
public:
    /// Sends a whole message (text must be UTF-8; compressed when permessage-deflate was
    /// negotiated). Suspends the fiber while the socket is full (write_timeout applies). False
    /// when the WebSocket is closing or gone: the message was not (fully) sent.
    bool send(ws::opcode op, std::string_view payload);
    bool send_text(std::string_view text) { return send(ws::opcode::text, text); }
    bool send_binary(std::string_view bytes) { return send(ws::opcode::binary, bytes); }
    /// Starts the close handshake with `code` (no more messages are delivered or sent).
    void close(ws::close_code code = ws::close_code::normal, std::string_view reason = {}) noexcept;
    /// The subprotocol chosen at the handshake, empty when none.
    [[nodiscard]] std::string_view subprotocol() const noexcept;
    /// The worker-unique id of the underlying connection.
    [[nodiscard]] std::uint64_t connection_id() const noexcept;

private:
    friend class websocket_session;
    explicit websocket_conn(websocket_session& s) noexcept : s_(s) {}
    websocket_session& s_;
};

/// What a WebSocket route does with its connections. One object serves every connection of
/// the route (share nothing per connection in it without care: calls for different connections
/// interleave whenever a callback suspends).
class websocket_handler {
public:
    virtual ~websocket_handler() = default;
    /// A complete message (text or binary, reassembled, inflated, UTF-8 checked). `payload` is
    /// valid during the call only, and only until a send() returns false (the connection may
    /// be gone then, and its buffers with it). Runs on a pooled fiber; may suspend. Throwing closes the
    /// WebSocket with 1011.
    virtual void on_message(websocket_conn& ws, ws::opcode op, std::string_view payload) = 0;
};

/// A route's WebSocket settings (the worker-wide ones are options::websocket).
struct websocket_route {
    std::vector<std::string> subprotocols;  // offered in preference order; empty: none
    std::vector<std::string> origins;       // allowed Origin values; empty: every origin (and none)
    /// Origin hook for programs (libfastfork); when set it decides instead of `origins`.
    ws::origin_check_cb check_origin = nullptr;
    void* origin_user = nullptr;
};

/// Validates `ctx`'s request as a WebSocket upgrade for `route` and, when it is one, answers
/// 101 and hijacks the connection for `handler` (which must outlive every connection it
/// serves); else answers the handshake's rejection (400/403/405/426). Call from a handler,
/// which then just returns. Returns whether the upgrade was accepted.
bool upgrade_websocket(http::request_ctx& ctx, const websocket_route& route, websocket_handler& h);

/// Counts of this worker's sessions, for tests (the stats segment has the same as gauges).
[[nodiscard]] std::size_t open_websockets() noexcept;

}  // namespace fastfork::worker
