#pragma once
// The counters one worker publishes (one writer per slot, relaxed atomics, no locks). Lives in
// a worker's shm slot; the worker writes it, fastforkctl and /metrics read it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace fastfork::shm {

using counter = std::atomic<std::uint64_t>;
static_assert(counter::is_always_lock_free, "stats need lock-free 64-bit atomics");

/// Single-writer increment: a plain load + store is enough (and cheaper than a locked add)
/// because only the slot's own worker ever writes it; readers see a consistent 64-bit value.
/// Built with FF_NO_STATS (CMake -DFF_STATS=OFF), add/sub/set compile to nothing: the benchmark
/// baseline for what the counters cost. get() still reads (everything stays zero).
#ifndef FF_NO_STATS
inline void add(counter& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void sub(counter& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}
inline void set(counter& c, std::uint64_t v) noexcept {
    c.store(v, std::memory_order_relaxed);
}
inline constexpr bool stats_enabled = true;
#else
inline void add(counter&, std::uint64_t = 1) noexcept {}
inline void sub(counter&, std::uint64_t = 1) noexcept {}
inline void set(counter&, std::uint64_t) noexcept {}
inline constexpr bool stats_enabled = false;
#endif
inline std::uint64_t get(const counter& c) noexcept {
    return c.load(std::memory_order_relaxed);
}

/// Why a connection was refused at admission.
enum class refusal : std::uint8_t { max_connections, per_ip, concurrency, count_ };
/// Which timeout cut a connection.
enum class timeout_kind : std::uint8_t { header, body, write, idle, count_ };

// ---- TLS (issue 13.7): the cells of the one TLS block at the end of basic_counters ----
/// How a TLS handshake ended.
enum class tls_handshake : std::uint8_t { full, resumed, failed, count_ };
/// Why a handshake failed (by OpenSSL's reason, grouped).
enum class tls_failure : std::uint8_t { protocol_version, no_shared_cipher, plain_http, malformed, other, count_ };
/// The label values, in cell order (table of names, not a switch: they are read by index).
inline constexpr std::string_view tls_handshake_names[] = {"full", "resumed", "failed"};
inline constexpr std::string_view tls_failure_names[] = {"protocol_version", "no_shared_cipher", "plain_http",
                                                         "malformed", "other"};
inline constexpr std::string_view tls_version_names[] = {"TLSv1.2", "TLSv1.3"};
/// The suites the default configuration allows; anything else is "other".
inline constexpr std::string_view tls_cipher_names[] = {
    "TLS_AES_128_GCM_SHA256",        "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",  "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-AES128-GCM-SHA256",   "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",   "other"};
inline constexpr std::string_view tls_ktls_names[] = {"tx", "rx"};

[[nodiscard]] constexpr std::string_view to_string(refusal r) noexcept {
    switch (r) {
        case refusal::max_connections:
            return "max_connections";
        case refusal::per_ip:
            return "per_ip";
        case refusal::concurrency:
            return "concurrency";
        case refusal::count_:
            break;
    }
    return {};
}

[[nodiscard]] constexpr std::string_view to_string(timeout_kind k) noexcept {
    switch (k) {
        case timeout_kind::header:
            return "header";
        case timeout_kind::body:
            return "body";
        case timeout_kind::write:
            return "write";
        case timeout_kind::idle:
            return "idle";
        case timeout_kind::count_:
            break;
    }
    return {};
}

/// The statuses the server produces on its own (limits, errors, refusals), each counted in
/// responses_by_status at its index in this table.
inline constexpr unsigned tracked_statuses[] = {400, 408, 413, 414, 429, 431, 500, 501, 503, 505};
inline constexpr std::size_t tracked_status_count = std::size(tracked_statuses);

/// Index of `status` in tracked_statuses, or -1 when it is not tracked.
[[nodiscard]] constexpr int tracked_status_index(unsigned status) noexcept {
    for (std::size_t i = 0; i < tracked_status_count; ++i)
        if (tracked_statuses[i] == status) return static_cast<int>(i);
    return -1;
}

/// parse_errors_by_kind is indexed by http::error's value (shm does not include http/; the
/// worker static_asserts that every enumerator fits, and shm_tests checks that the names in
/// parse_error_name() match http::name_of).
inline constexpr std::size_t parse_error_kinds = 32;

/// The stats name of parse error kind `kind` (http::error value): http::name_of's text, so the
/// kind has one name everywhere; empty for 0 (none) and values http::error does not define.
[[nodiscard]] constexpr std::string_view parse_error_name(std::size_t kind) noexcept {
    constexpr std::string_view names[] = {
        "",  // none
        "bad_request_line",
        "bad_method",
        "bad_target",
        "bad_version",
        "unsupported_version",
        "request_line_too_long",
        "header_too_large",
        "too_many_headers",
        "bad_line_ending",
        "bad_field_name",
        "space_before_colon",
        "obs_fold",
        "bad_field_value",
        "missing_host",
        "duplicate_host",
        "bad_content_length",
        "conflicting_content_length",
        "content_length_with_transfer_encoding",
        "bad_transfer_encoding",
        "unsupported_transfer_encoding",
        "bad_chunk_size",
        "chunk_size_overflow",
        "bad_chunk_extension",
        "bad_chunk_terminator",
        "bad_trailer",
        "body_too_large",
    };
    return kind < std::size(names) ? names[kind] : std::string_view();
}

/// Every counter a worker keeps, over a cell type: `counter` in shm (worker_counters), plain
/// integers in a snapshot (counter_values). Names are the stats keys everywhere (STYLE.md §2).
/// Every member is a cell or an array of cells, so the struct is also an array of
/// sizeof/sizeof(T) cells (the master's fold and the snapshot copy rely on it). New counters go
/// at the end: tests/integration/master_harness.py reads the first ones by offset.
template <class T>
struct basic_counters {
    T connections_accepted;
    T connections_active;  // gauge: open connections
    T connections_idle;    // gauge: open connections with no request in progress
    T connections_refused[static_cast<int>(refusal::count_)];
    T accept_errors;  // EMFILE/ENFILE and friends
    T requests;
    T responses_by_class[5];  // 1xx..5xx
    T bytes_in;
    T bytes_out;
    T parse_errors;  // requests rejected by the parser or body reader
    T timeouts[static_cast<int>(timeout_kind::count_)];
    T handler_exceptions;
    T fibers_live;  // gauge
    T fibers_idle;  // gauge
    T fibers_created;
    T fibers_freed;
    T ctx_pool_hits;
    T ctx_pool_misses;
    T buffer_pool_hits;
    T buffer_pool_misses;
    T responses_by_status[tracked_status_count];  // by tracked_status_index()
    T parse_errors_by_kind[parse_error_kinds];    // by http::error value
    T streamed_responses;                         // responses a handler streamed (ctx.write / ctx.flush, SSE, echo)
    T streamed_responses_aborted;                 // of those, cut short: client gone, write timeout, handler threw
    // ---- WebSocket (worker/websocket_session.cpp), one block ----
    T websockets_open;         // gauge: WebSocket sessions open now
    T websockets_accepted;     // upgrades that became sessions
    T websocket_messages_in;   // complete messages received (after reassembly)
    T websocket_messages_out;  // messages sent
    T websocket_bytes_in;      // message payload bytes received (after inflating)
    T websocket_bytes_out;     // message payload bytes sent (before compressing)
    T websocket_errors;        // sessions closed for a protocol error (1002, 1007, 1009)
    // ---- TLS: one block, at the end (layout 5) ----
    T tls_handshakes[static_cast<int>(tls_handshake::count_)];
    T tls_handshake_failures[static_cast<int>(tls_failure::count_)];
    T tls_versions[std::size(tls_version_names)];  // completed handshakes by version
    T tls_ciphers[std::size(tls_cipher_names)];    // completed handshakes by suite
    T tls_ktls[std::size(tls_ktls_names)];         // gauge: open connections whose kernel does TX / RX
};

using worker_counters = basic_counters<counter>;
using counter_values = basic_counters<std::uint64_t>;

/// Number of cells in basic_counters.
inline constexpr std::size_t counter_cells = sizeof(counter_values) / sizeof(std::uint64_t);
static_assert(sizeof(worker_counters) == sizeof(counter_values), "counters and values must have one layout");

/// Counts `status` in responses_by_class and, when it is tracked, in responses_by_status.
inline void count_status(worker_counters& c, unsigned status) noexcept {
    unsigned cls = status / 100;
    if (cls >= 1 && cls <= 5) add(c.responses_by_class[cls - 1]);
    if (int i = tracked_status_index(status); i >= 0) add(c.responses_by_status[i]);
}

/// Counts a parse error of kind `kind` (an http::error value) in parse_errors and parse_errors_by_kind.
inline void count_parse_error(worker_counters& c, unsigned kind) noexcept {
    add(c.parse_errors);
    if (kind < parse_error_kinds) add(c.parse_errors_by_kind[kind]);
}

/// Copies every cell of `from` (relaxed loads; each value is consistent on its own).
inline void load_counters(const worker_counters& from, counter_values& to) noexcept {
    const auto* src = reinterpret_cast<const counter*>(&from);
    auto* dst = reinterpret_cast<std::uint64_t*>(&to);
    for (std::size_t i = 0; i < counter_cells; ++i) dst[i] = src[i].load(std::memory_order_relaxed);
}

}  // namespace fastfork::shm
