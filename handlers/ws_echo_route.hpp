#pragma once
// The `ws_echo` built-in (worker): a WebSocket route that sends every message back as it came
// (text as text, binary as binary, 0 bytes to max_message), for demos, tests and benchmarks.

#include "handlers/router.hpp"

namespace fastfork::handlers {

/// The route for `spec` (handler "ws_echo"): its origins and subprotocols decide the handshake
/// (worker/websocket_session.hpp upgrade_websocket). Not an upgrade request: 426 with the
/// handshake's reason.
[[nodiscard]] route_fn make_ws_echo_route(const route_spec& spec);

}  // namespace fastfork::handlers
