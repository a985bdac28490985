#pragma once
// The opening handshake (RFC 6455 §4.2): validates an upgrade request given the parsed
// http::request, negotiates a subprotocol and permessage-deflate, and writes the 101 head or
// the rejection. Protocol only (no I/O); used by the worker's ws routes before hijacking.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "http/request.hpp"
#include "websocket/deflate_offer.hpp"

namespace fastfork::websocket {

/// RFC 6455 §1.3: the GUID appended to the key before hashing.
inline constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Origin hook: return true to accept the request. `origin` is the Origin field value, empty
/// when absent (non-browser clients send none). `user` is handshake_options::origin_user.
using origin_check_cb = bool (*)(std::string_view origin, void* user) noexcept;

/// The server side of the handshake. Views and pointers must outlive check_upgrade's result.
struct handshake_options {
    std::span<const std::string_view> subprotocols;  // the server's, in preference order; empty: none
    origin_check_cb check_origin = nullptr;          // null: every origin is accepted
    void* origin_user = nullptr;
    deflate_config deflate;  // permessage-deflate policy (off by default)
};

/// Why a request is not a valid upgrade; `none` means accepted.
enum class handshake_error : std::uint8_t {
    none,
    not_get,              ///< method is not GET (405)
    not_http11,           ///< HTTP/1.0 (400)
    no_upgrade_token,     ///< Upgrade has no "websocket" token (400)
    no_connection_token,  ///< Connection has no "upgrade" token (400)
    bad_version,          ///< Sec-WebSocket-Version absent or not 13 (426 + Sec-WebSocket-Version: 13)
    bad_key,              ///< Sec-WebSocket-Key absent, repeated, or not base64 of 16 bytes (400)
    origin_rejected,      ///< the origin hook said no (403)
};

/// The outcome of check_upgrade. Views point into the request's buffer or the options' list.
struct handshake_result {
    handshake_error error = handshake_error::none;
    std::uint16_t status = 101;     // 101 when accepted; else 400, 403, 405 or 426
    std::string_view key;           // Sec-WebSocket-Key as received (trimmed)
    std::string_view subprotocol;   // the chosen one (from options.subprotocols), empty when none
    bool has_deflate = false;       // permessage-deflate was negotiated ...
    deflate_params deflate;         // ... with these parameters (valid when has_deflate)
    std::array<char, 28> accept{};  // Sec-WebSocket-Accept (valid when accepted)

    [[nodiscard]] bool ok() const noexcept { return error == handshake_error::none; }
};

/// Validates `req` as a WebSocket upgrade (RFC 6455 §4.2.1): GET, HTTP/1.1, an Upgrade list with
/// "websocket" and a Connection list with "upgrade" (tokens case-insensitive, any field line),
/// Sec-WebSocket-Version 13, one Sec-WebSocket-Key that base64-decodes to 16 bytes, the origin
/// hook; then chooses the subprotocol (the server's first preference the client offered in any
/// Sec-WebSocket-Protocol line) and permessage-deflate (negotiate_deflate over every
/// Sec-WebSocket-Extensions line), and computes the accept value. Allocates nothing.
[[nodiscard]] handshake_result check_upgrade(const http::request& req, const handshake_options& options) noexcept;

/// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + accept_guid)), 28 characters.
[[nodiscard]] std::array<char, 28> compute_accept(std::string_view key) noexcept;

/// Appends the whole 101 head for an accepted `result`: status line, Upgrade, Connection,
/// Sec-WebSocket-Accept, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions when chosen, and
/// the empty line. Frames may follow in the same buffer.
void write_accept_response(const handshake_result& result, http::byte_buffer& out);

/// Appends a complete rejection for a failed `result`: its status, `Sec-WebSocket-Version: 13`
/// for bad_version (RFC 6455 §4.4), a short text body naming the problem, and
/// `Connection: close` (the client expected a different protocol; we do not keep the connection).
void write_reject_response(const handshake_result& result, http::byte_buffer& out);

/// A short description of `e` for logs and rejection bodies ("Sec-WebSocket-Version must be 13").
[[nodiscard]] std::string_view to_string(handshake_error e) noexcept;

}  // namespace fastfork::websocket
