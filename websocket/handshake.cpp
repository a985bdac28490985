#include "websocket/handshake.hpp"

#include "http/field.hpp"
#include "http/rfc9110.hpp"
#include "websocket/sha1.hpp"

namespace fastfork::websocket {

namespace {

// Whether any field line named `name` (or with id `f`) lists `token` (RFC 9110 §5.3: repeated
// lines are one comma-separated list). Upgrade and Connection tokens compare case-insensitively;
// subprotocol names exactly (RFC 6455 §4.1 compares them as given).
bool any_list_has(
    const http::headers& h, http::field f, std::string_view name, std::string_view token, bool exact = false) noexcept {
    for (const auto& line : h) {
        bool match = f != http::field::unknown ? line.id == f : http::iequals(line.name, name);
        if (!match) continue;
        if (http::for_each_list_element(
                line.value, [&](std::string_view e) { return exact ? e == token : http::iequals(e, token); }))
            return true;
    }
    return false;
}

handshake_result reject(handshake_error e, std::uint16_t status) noexcept {
    handshake_result r;
    r.error = e;
    r.status = status;
    return r;
}

}  // namespace

std::array<char, 28> compute_accept(std::string_view key) noexcept {
    sha1_digest d = sha1(key, accept_guid);
    std::array<char, 28> out{};
    base64_encode(d.data(), d.size(), out.data());
    return out;
}

handshake_result check_upgrade(const http::request& req, const handshake_options& options) noexcept {
    // RFC 6455 §4.2.1, items 1-6, in order.
    if (req.method != http::method::get) return reject(handshake_error::not_get, 405);
    if (req.version_minor != 1) return reject(handshake_error::not_http11, 400);
    if (!any_list_has(req.headers, http::field::upgrade, {}, "websocket"))
        return reject(handshake_error::no_upgrade_token, 400);
    if (!any_list_has(req.headers, http::field::connection, {}, "upgrade"))
        return reject(handshake_error::no_connection_token, 400);

    // §4.4: an unsupported version gets 426 with the versions we speak. A repeated field is
    // not a version either.
    std::string_view version;
    std::string_view key;
    int version_lines = 0;
    int key_lines = 0;
    for (const auto& line : req.headers) {
        if (line.id != http::field::unknown) continue;
        if (http::iequals(line.name, "Sec-WebSocket-Version")) {
            version = line.value;
            ++version_lines;
        } else if (http::iequals(line.name, "Sec-WebSocket-Key")) {
            key = line.value;
            ++key_lines;
        }
    }
    if (version_lines != 1 || version != "13") return reject(handshake_error::bad_version, 426);

    std::uint8_t raw[18];
    if (key_lines != 1 || key.size() != 24 || base64_decode(key, raw, sizeof raw) != 16)
        return reject(handshake_error::bad_key, 400);

    if (options.check_origin && !options.check_origin(req.headers.get(http::field::origin), options.origin_user))
        return reject(handshake_error::origin_rejected, 403);

    handshake_result r;
    r.key = key;
    r.accept = compute_accept(key);

    // Subprotocol: the server's first preference that the client offered anywhere.
    for (std::string_view mine : options.subprotocols) {
        if (any_list_has(req.headers, http::field::unknown, "Sec-WebSocket-Protocol", mine, true)) {
            r.subprotocol = mine;
            break;
        }
    }

    if (options.deflate.enabled) {
        for (const auto& line : req.headers) {
            if (line.id != http::field::unknown || !http::iequals(line.name, "Sec-WebSocket-Extensions")) continue;
            if (negotiate_deflate(line.value, options.deflate, r.deflate)) {
                r.has_deflate = true;
                break;
            }
        }
    }
    return r;
}

void write_accept_response(const handshake_result& result, http::byte_buffer& out) {
    out.append(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
    out.append(std::string_view(result.accept.data(), result.accept.size()));
    out.append("\r\n");
    if (!result.subprotocol.empty()) {
        out.append("Sec-WebSocket-Protocol: ");
        out.append(result.subprotocol);
        out.append("\r\n");
    }
    if (result.has_deflate) write_deflate_answer(result.deflate, out);
    out.append("\r\n");
}

void write_reject_response(const handshake_result& result, http::byte_buffer& out) {
    std::string_view reason;
    switch (result.status) {
        case 403:
            reason = "Forbidden";
            break;
        case 405:
            reason = "Method Not Allowed";
            break;
        case 426:
            reason = "Upgrade Required";
            break;
        default:
            reason = "Bad Request";
            break;
    }
    std::string_view body = to_string(result.error);
    out.append("HTTP/1.1 ");
    out.append_decimal(result.status);
    out.append(' ');
    out.append(reason);
    out.append("\r\n");
    if (result.error == handshake_error::bad_version) out.append("Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
    if (result.status == 405) out.append("Allow: GET\r\n");
    out.append("Content-Type: text/plain\r\nConnection: close\r\nContent-Length: ");
    out.append_decimal(body.size() + 1);
    out.append("\r\n\r\n");
    out.append(body);
    out.append('\n');
}

std::string_view to_string(handshake_error e) noexcept {
    switch (e) {
        case handshake_error::none:
            return "accepted";
        case handshake_error::not_get:
            return "a WebSocket upgrade must be a GET";
        case handshake_error::not_http11:
            return "a WebSocket upgrade needs HTTP/1.1";
        case handshake_error::no_upgrade_token:
            return "Upgrade must list websocket";
        case handshake_error::no_connection_token:
            return "Connection must list upgrade";
        case handshake_error::bad_version:
            return "Sec-WebSocket-Version must be 13";
        case handshake_error::bad_key:
            return "Sec-WebSocket-Key must be base64 of 16 bytes";
        case handshake_error::origin_rejected:
            return "origin not allowed";
    }
    return "bad upgrade";
}

}  // namespace fastfork::websocket
