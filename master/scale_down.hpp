#pragma once
// Scaling down (master, SIGTTOU): the removed worker's socket is closed only after new
// connections have been steered away from it for a while (see master/scale_down.cpp).

#include <cstdint>

namespace fastfork::master {

/// How long new connections are steered away from a removed worker before it is told to drain
/// and its socket closes. Covers the handshakes already hashed to it: with TCP_DEFER_ACCEPT a
/// connection joins its accept queue only when the client's request arrives, which on a busy
/// 2-core machine takes a client scheduled late tens of milliseconds.
inline constexpr std::uint64_t steer_away_ms = 200;

struct scale_down_state {
    bool pending = false;          // a worker index is steered away from, not yet stopped
    unsigned index = 0;            // that index (== the configured worker count now)
    std::uint64_t stop_at_ms = 0;  // monotonic: then SIGTERM and close its socket
};

}  // namespace fastfork::master
