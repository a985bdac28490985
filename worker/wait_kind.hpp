#pragma once
// What a connection waits for (worker): each kind has one timeout list in the server, so the
// sweep can tell a connection which of its deadlines has passed.

#include <cstdint>

namespace fastfork::worker {

enum class wait_kind : std::uint8_t {
    header,  // request head incomplete (incl. fresh connections that sent nothing yet)
    idle,    // keep-alive, nothing in flight
    body,    // a fiber waits for body bytes
    write,   // a fiber waits for a write to drain
    linger,  // we sent FIN and discard input until the peer's FIN
};
inline constexpr unsigned wait_kinds = 5;

}  // namespace fastfork::worker
