#include "websocket/handshake.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

#include "http/parser.hpp"

using namespace fastfork;
using namespace fastfork::websocket;
using namespace std::literals;

namespace {

// A parsed request over its own buffer (views into it stay valid while this lives).
struct parsed {
    std::string bytes;
    http::parser p;
    explicit parsed(std::string raw) : bytes(std::move(raw)) {
        auto r = p.feed(bytes.data(), bytes.size());
        BOOST_REQUIRE(r.state == http::parser::state::done);
    }
    const http::request& req() const { return p.get(); }
};

const std::string rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";

std::string upgrade(std::string extra = {}, std::string first = "GET /chat HTTP/1.1", std::string key = rfc_key) {
    return first +
           "\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: " +
           key + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

handshake_result check(const std::string& raw, const handshake_options& o = {}) {
    parsed p(raw);
    return check_upgrade(p.req(), o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_handshake)

BOOST_AUTO_TEST_CASE(rfc_example_key_gives_the_rfc_accept) {
    auto a = compute_accept(rfc_key);
    BOOST_TEST(std::string(a.data(), a.size()) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

BOOST_AUTO_TEST_CASE(accepts_the_rfc_request_and_writes_101) {
    auto r = check(upgrade("Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"));
    BOOST_TEST(r.ok());
    BOOST_TEST(r.status == 101);
    BOOST_TEST(r.subprotocol.empty());  // the server offers none
    http::byte_buffer out;
    write_accept_response(r, out);
    BOOST_TEST(out.view() ==
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(tokens_are_case_insensitive_and_found_in_lists) {
    std::string raw =
        "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nconnection: foo, UPGRADE\r\n"
        "upgrade: h2c, WebSocket\r\nsec-websocket-key: " +
        rfc_key + "\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n";
    BOOST_TEST(check(raw).ok());
}

BOOST_AUTO_TEST_CASE(rejects_each_missing_piece_with_its_status) {
    auto is = [](const handshake_result& r, handshake_error e, int status) {
        return r.error == e && r.status == status;
    };
    BOOST_TEST(is(check(upgrade({}, "POST /chat HTTP/1.1")), handshake_error::not_get, 405));
    BOOST_TEST(is(check(upgrade({}, "GET /chat HTTP/1.0")), handshake_error::not_http11, 400));
    BOOST_TEST(is(check("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + rfc_key +
                        "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                  handshake_error::no_upgrade_token, 400));
    BOOST_TEST(is(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
                        "Sec-WebSocket-Key: " +
                        rfc_key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                  handshake_error::no_connection_token, 400));
    BOOST_TEST(is(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                        "Sec-WebSocket-Key: " +
                        rfc_key + "\r\nSec-WebSocket-Version: 8\r\n\r\n"),
                  handshake_error::bad_version, 426));
    BOOST_TEST(is(check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                        "Sec-WebSocket-Key: " +
                        rfc_key + "\r\n\r\n"),
                  handshake_error::bad_version, 426));
    for (std::string key : {""s, "dGhlIHNhbXBsZSBub25jZQ"s, "dGhlIHNhbXBsZSBub25jZQ=="s + "AAAA",
                            "dGhlIHNhbXBsZSBub25jZ!=="s, "c2hvcnQ="s})
        BOOST_TEST(is(check(upgrade({}, "GET /chat HTTP/1.1", key)), handshake_error::bad_key, 400), key);
    BOOST_TEST(is(check(upgrade("Sec-WebSocket-Key: " + rfc_key + "\r\n")), handshake_error::bad_key, 400));
}

BOOST_AUTO_TEST_CASE(version_rejection_names_version_13) {
    auto r = check(
        "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Key: " +
        rfc_key + "\r\nSec-WebSocket-Version: 7\r\n\r\n");
    http::byte_buffer out;
    write_reject_response(r, out);
    std::string s(out.view());
    BOOST_TEST(s.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0) == 0u);
    BOOST_TEST(s.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
    BOOST_TEST(s.find("\r\nConnection: close\r\n") != std::string::npos);
    // The body's length matches Content-Length.
    auto body = s.substr(s.find("\r\n\r\n") + 4);
    BOOST_TEST(s.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(origin_hook_decides) {
    handshake_options o;
    o.check_origin = [](std::string_view origin, void* user) noexcept {
        ++*static_cast<int*>(user);
        return origin == "https://good.example";
    };
    int calls = 0;
    o.origin_user = &calls;
    BOOST_TEST(check(upgrade("Origin: https://good.example\r\n"), o).ok());
    auto bad = check(upgrade("Origin: https://evil.example\r\n"), o);
    BOOST_TEST((bad.error == handshake_error::origin_rejected && bad.status == 403));
    BOOST_TEST(!check(upgrade(), o).ok());  // no Origin: the hook sees "" and refuses
    BOOST_TEST(calls == 3);
}

BOOST_AUTO_TEST_CASE(subprotocol_is_the_servers_first_offered_choice) {
    std::string_view mine[] = {"v2.echo", "chat"};
    handshake_options o;
    o.subprotocols = mine;
    auto r = check(upgrade("Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Protocol: v2.echo\r\n"), o);
    BOOST_TEST(r.subprotocol == "v2.echo");
    http::byte_buffer out;
    write_accept_response(r, out);
    BOOST_TEST(out.view().find("\r\nSec-WebSocket-Protocol: v2.echo\r\n") != std::string_view::npos);
    BOOST_TEST(check(upgrade("Sec-WebSocket-Protocol: chat\r\n"), o).subprotocol == "chat");
    BOOST_TEST(check(upgrade("Sec-WebSocket-Protocol: CHAT, other\r\n"), o).subprotocol.empty());  // exact names
    BOOST_TEST(check(upgrade(), o).subprotocol.empty());
}

BOOST_AUTO_TEST_CASE(negotiates_permessage_deflate_when_enabled) {
    std::string offer =
        "Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate; client_max_window_bits\r\n";
    BOOST_TEST(!check(upgrade(offer)).has_deflate);  // disabled by default
    handshake_options o;
    o.deflate.enabled = true;
    auto r = check(upgrade(offer), o);
    BOOST_TEST(r.has_deflate);
    http::byte_buffer out;
    write_accept_response(r, out);
    BOOST_TEST(out.view().find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n") != std::string_view::npos);
}

BOOST_AUTO_TEST_SUITE_END()
