#pragma once
// The settings of one worker process. Filled in by master/config.cpp (or by the flags of
// `fastfork --single-process`); read by every part of worker/.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/limits.hpp"

namespace fastfork::worker {

using millis = std::chrono::milliseconds;

/// The WebSocket runtime's settings (worker/websocket_session.hpp); the per-route ones (origins,
/// subprotocols) are the route's.
struct websocket_options {
    millis ping_interval{30'000};  // silence after which we ping; no reply within another interval: close. 0 = off
    millis idle_timeout{0};        // no message from the client this long: close 1000. 0 = off
    std::size_t max_message = 16u << 20;  // largest message (after inflating); larger: close 1009
    bool deflate = true;                  // negotiate permessage-deflate (RFC 7692) when a client offers it
};

struct options {
    // ---- goroutine-style worker pool (fasthttp: Concurrency, MaxIdleWorkerDuration) ----
    std::size_t concurrency = 256 * 1024;  // fibers at most; a request finding none gets 503
    std::size_t stack_size = 64 * 1024;    // bytes per fiber stack, plus one guard page
    // An idle fiber, pooled buffer or exchange, or wholly free connection slab unused this long
    // is freed (trimmed by the sweep, coldest first). 10 s as in fasthttp: a load that pauses
    // for a few seconds finds its pools warm, and a burst's memory is back within 10-20 s.
    millis max_idle_worker_duration{10'000};
    std::size_t pool_max_idle_count = 16 * 1024;  // buffers, and exchanges, kept idle at most (each)
    std::size_t pool_max_idle_bytes = 64u << 20;  // bytes of buffers, and of exchanges, kept idle at most (each)

    // ---- admission ----
    std::size_t max_connections = 100'000;    // open connections per worker; over it: 503 and close
    std::size_t max_conns_per_ip = 0;         // 0 = unlimited; over it: 429 and close
    std::uint64_t max_requests_per_conn = 0;  // 0 = unlimited; the last one gets Connection: close

    // ---- timeouts ----
    // From accept to the end of the first request's head (→ 408); on a keep-alive connection,
    // from the first byte of each later request. From accept, not from the first byte: a client
    // that connects and stays silent must not hold its connection without a deadline. When it
    // is at least 1 s the listeners defer accepts by 1 s (server.cpp), and a connection accepted
    // silent after that gets the rest: the deadline still counts from its connect.
    millis header_timeout{10'000};
    millis read_timeout{30'000};     // longest gap between body reads → 408
    millis write_timeout{30'000};    // longest a pending write may make no progress → close
    millis idle_timeout{75'000};     // keep-alive connection with nothing in flight → close
    millis linger_timeout{2'000};    // after our FIN, how long we keep reading before close
    millis drain_idle_grace{1'000};  // while draining: idle connections older than this are closed

    // ---- protocol ----
    http::limits limits;
    bool normalize_header_names = true;    // content-type → Content-Type (fasthttp default)
    std::string server_name = "fastfork";  // Server header; empty = not sent
    std::size_t read_buffer_size = 4096;   // initial read buffer; grows up to limits.max_head for the head
    websocket_options websocket;

    // ---- identity ----
    unsigned slot = 0;  // worker slot number (names the worker in /healthz)
    std::uint64_t generation = 0;
};

}  // namespace fastfork::worker
