#pragma once
// What a connection waits for (worker): each kind has one timeout list in the server, so the
// sweep can tell a connection which of its deadlines has passed.

#include <cstdint>

namespace fastfork::worker {

enum class wait_kind : std::uint8_t {
    header,  // request head incomplete (incl. fresh connections that sent nothing yet)
    // A fresh connection the kernel held back for the accept deferral (TCP_DEFER_ACCEPT) and
    // that still has sent nothing: the header timeout minus the deferral it already waited.
    header_after_deferral,
    idle,    // keep-alive, nothing in flight
    body,    // a fiber waits for body bytes
    write,   // a fiber waits for a write to drain
    linger,  // we sent FIN and discard input until the peer's FIN
    // A hijacked connection's own timer (worker/hijack.hpp): for a WebSocket, its keep-alive
    // ping interval (options::websocket.ping_interval).
    hijacked,
};
inline constexpr unsigned wait_kinds = 7;

}  // namespace fastfork::worker
