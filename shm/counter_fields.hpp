#pragma once
// The one table of every counter a worker keeps (master's fold, snapshots, every renderer in
// fastforkctl and a worker's /metrics and /stats): its stats name, help text, whether it is a
// gauge, and where it lives in basic_counters. Checked against the struct at compile time.

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "shm/counters.hpp"

namespace fastfork::shm {

/// One member of basic_counters, as the renderers name it. `name` is the field name (the JSON
/// key, the table column, and the Prometheus name `fastfork_<name>[_total]`, STYLE.md §2).
struct counter_field {
    std::string_view name;
    std::string_view help;
    bool gauge;              // describes one live process: not folded into `retired`, not summed over time
    std::size_t cell;        // first cell in basic_counters
    std::size_t length;      // 1 for a scalar, else the array's length
    std::string_view label;  // for arrays: the label / JSON object key kind ("class", "status", ...)
    /// For arrays: the label value of element i; empty = the element is not shown (unused).
    std::string_view (*label_value)(std::size_t i);
};

namespace detail {

constexpr std::size_t cells(std::size_t bytes) noexcept {
    return bytes / sizeof(std::uint64_t);
}

inline std::string_view refusal_label(std::size_t i) {
    return to_string(static_cast<refusal>(i));
}
inline std::string_view timeout_label(std::size_t i) {
    return to_string(static_cast<timeout_kind>(i));
}
inline std::string_view class_label(std::size_t i) {
    constexpr std::string_view names[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    return i < std::size(names) ? names[i] : std::string_view();
}
inline constexpr std::string_view status_names[] = {"400", "408", "413", "414", "429",
                                                    "431", "500", "501", "503", "505"};
constexpr bool status_names_match() {
    if (std::size(status_names) != tracked_status_count) return false;
    for (std::size_t i = 0; i < tracked_status_count; ++i) {
        unsigned v = 0;
        for (char c : status_names[i]) v = v * 10 + static_cast<unsigned>(c - '0');
        if (v != tracked_statuses[i]) return false;
    }
    return true;
}
static_assert(status_names_match(), "status_names must spell tracked_statuses");
inline std::string_view status_label(std::size_t i) {
    return i < std::size(status_names) ? status_names[i] : std::string_view();
}
inline std::string_view parse_error_label(std::size_t i) {
    return parse_error_name(i);
}
inline std::string_view tls_handshake_label(std::size_t i) {
    return tls_handshake_names[i];
}
inline std::string_view tls_failure_label(std::size_t i) {
    return tls_failure_names[i];
}
inline std::string_view tls_version_label(std::size_t i) {
    return tls_version_names[i];
}
inline std::string_view tls_cipher_label(std::size_t i) {
    return tls_cipher_names[i];
}
inline std::string_view tls_ktls_label(std::size_t i) {
    return tls_ktls_names[i];
}

}  // namespace detail

// A local macro (undefined below) only to stringize each member's name: the table can then
// never disagree with the struct, which is STYLE.md §2's "one name everywhere".
// clang-format off
#define FF_COUNTER_FIELD(field, help, gauge, label, fn)                                              \
    counter_field{#field, help, gauge, detail::cells(offsetof(counter_values, field)),               \
                  detail::cells(sizeof(counter_values::field)), label, fn}
// clang-format on

/// Every counter field, in layout order. A gauge is marked here and nowhere else.
inline constexpr counter_field counter_table[] = {
    FF_COUNTER_FIELD(connections_accepted, "Connections accepted.", false, "", nullptr),
    FF_COUNTER_FIELD(connections_active, "Open connections.", true, "", nullptr),
    FF_COUNTER_FIELD(connections_idle, "Open connections with no request in progress.", true, "", nullptr),
    FF_COUNTER_FIELD(
        connections_refused, "Connections refused at admission, by reason.", false, "reason", detail::refusal_label),
    FF_COUNTER_FIELD(accept_errors, "accept() failures (EMFILE, ENFILE, ...).", false, "", nullptr),
    FF_COUNTER_FIELD(requests, "Requests whose head was parsed and that reached the handler.", false, "", nullptr),
    FF_COUNTER_FIELD(responses_by_class, "Responses by status class.", false, "class", detail::class_label),
    FF_COUNTER_FIELD(bytes_in, "Bytes read from clients.", false, "", nullptr),
    FF_COUNTER_FIELD(bytes_out, "Bytes written to clients.", false, "", nullptr),
    FF_COUNTER_FIELD(parse_errors, "Requests rejected by the parser or the body reader.", false, "", nullptr),
    FF_COUNTER_FIELD(timeouts, "Connections cut by a timeout, by kind.", false, "kind", detail::timeout_label),
    FF_COUNTER_FIELD(handler_exceptions, "Handlers that threw (answered 500).", false, "", nullptr),
    FF_COUNTER_FIELD(fibers_live, "Fibers that exist.", true, "", nullptr),
    FF_COUNTER_FIELD(fibers_idle, "Fibers waiting in the pool.", true, "", nullptr),
    FF_COUNTER_FIELD(fibers_created, "Fibers created.", false, "", nullptr),
    FF_COUNTER_FIELD(fibers_freed, "Idle fibers freed.", false, "", nullptr),
    FF_COUNTER_FIELD(ctx_pool_hits, "Request contexts reused from the pool.", false, "", nullptr),
    FF_COUNTER_FIELD(ctx_pool_misses, "Request contexts allocated.", false, "", nullptr),
    FF_COUNTER_FIELD(buffer_pool_hits, "Byte buffers reused from the pool.", false, "", nullptr),
    FF_COUNTER_FIELD(buffer_pool_misses, "Byte buffers allocated.", false, "", nullptr),
    FF_COUNTER_FIELD(responses_by_status,
                     "Responses with a status the server produces itself.",
                     false,
                     "status",
                     detail::status_label),
    FF_COUNTER_FIELD(parse_errors_by_kind, "Parse errors by kind.", false, "kind", detail::parse_error_label),
    FF_COUNTER_FIELD(streamed_responses, "Responses a handler streamed (chunk by chunk, SSE).", false, "", nullptr),
    FF_COUNTER_FIELD(streamed_responses_aborted,
                     "Streamed responses cut short (client gone, write timeout, handler threw).",
                     false,
                     "",
                     nullptr),
    FF_COUNTER_FIELD(websockets_open, "WebSocket sessions open.", true, "", nullptr),
    FF_COUNTER_FIELD(websockets_accepted, "WebSocket upgrades accepted.", false, "", nullptr),
    FF_COUNTER_FIELD(websocket_messages_in, "WebSocket messages received.", false, "", nullptr),
    FF_COUNTER_FIELD(websocket_messages_out, "WebSocket messages sent.", false, "", nullptr),
    FF_COUNTER_FIELD(websocket_bytes_in, "WebSocket message payload bytes received.", false, "", nullptr),
    FF_COUNTER_FIELD(websocket_bytes_out, "WebSocket message payload bytes sent.", false, "", nullptr),
    FF_COUNTER_FIELD(websocket_errors, "WebSocket sessions closed for a protocol error.", false, "", nullptr),
    FF_COUNTER_FIELD(tls_handshakes, "TLS handshakes by result.", false, "result", detail::tls_handshake_label),
    FF_COUNTER_FIELD(
        tls_handshake_failures, "Failed TLS handshakes by reason.", false, "reason", detail::tls_failure_label),
    FF_COUNTER_FIELD(tls_versions, "Completed TLS handshakes by version.", false, "version", detail::tls_version_label),
    FF_COUNTER_FIELD(
        tls_ciphers, "Completed TLS handshakes by cipher suite.", false, "cipher", detail::tls_cipher_label),
    FF_COUNTER_FIELD(tls_ktls,
                     "Open TLS connections whose kernel does the record layer.",
                     true,
                     "direction",
                     detail::tls_ktls_label),
};
#undef FF_COUNTER_FIELD

namespace detail {
constexpr bool fields_cover_every_cell() {
    std::size_t next = 0;
    for (const auto& f : counter_table) {
        if (f.cell != next) return false;
        next += f.length;
    }
    return next == counter_cells;
}
static_assert(fields_cover_every_cell(), "every member of basic_counters needs an entry in counter_table");

constexpr std::array<bool, counter_cells> make_gauge_cells() {
    std::array<bool, counter_cells> out{};
    for (const auto& f : counter_table)
        for (std::size_t i = 0; i < f.length; ++i) out[f.cell + i] = f.gauge;
    return out;
}
}  // namespace detail

/// gauge_cells[i]: cell i of basic_counters belongs to a gauge (from counter_table).
inline constexpr std::array<bool, counter_cells> gauge_cells = detail::make_gauge_cells();
static_assert(gauge_cells[detail::cells(offsetof(counter_values, connections_active))] &&
                  !gauge_cells[detail::cells(offsetof(counter_values, requests))],
              "gauge_cells must follow counter_table");

/// True for the cells of basic_counters that are gauges (connections_active, connections_idle,
/// fibers_live, fibers_idle): they describe a live process and are not folded into `retired`.
[[nodiscard]] constexpr bool is_gauge_cell(std::size_t cell) noexcept {
    return cell < counter_cells && gauge_cells[cell];
}

}  // namespace fastfork::shm
