// Status routes and who may see them (issue 10.6): the router's gate on every built-in declared
// a status route, /healthz's short answer, and the welcome page without its live table.
#include "handlers/status_access.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>

#include "handlers/builtin_routes.hpp"
#include "handlers/router.hpp"
#include "handlers/welcome_page.hpp"
#include "http/status.hpp"

using namespace fastfork;

namespace {

constexpr std::array<std::uint8_t, 4> loopback_peer = {127, 0, 0, 1};
constexpr std::array<std::uint8_t, 4> lan_peer = {10, 9, 9, 9};
constexpr std::array<std::uint8_t, 16> loopback6_peer = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

struct answer {
    unsigned status;
    std::string body;
};

template <std::size_t N>
answer get(const handlers::router& r, std::string_view path, const std::array<std::uint8_t, N>& peer) {
    http::request req;
    req.path = path;
    req.method = http::method::get;
    http::request_ctx ctx;
    ctx.bind(&req, {}, nullptr);
    ctx.set_remote_address(peer.data(), peer.size());
    r(ctx);
    return {ctx.response().status(), std::string(ctx.response().body())};
}

handlers::router default_router(const handlers::options& o) {
    return handlers::build_router(handlers::default_routes(o, ""), handlers::route_factories{}, o);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handlers_status_access)

BOOST_AUTO_TEST_CASE(every_builtin_says_who_may_call_it) {
    for (std::string_view name : handlers::builtin_handler_names) {
        if (name == "welcome") continue;  // not a built-in of the table: a page of its own
        if (name == "ws_echo") continue;  // a WebSocket route with settings of its own (ws_echo_route.hpp)
        const handlers::builtin_route* b = handlers::find_builtin(name);
        BOOST_REQUIRE_MESSAGE(b, name);
        const bool is_status = name == "metrics" || name == "stats" || name == "dashboard";
        BOOST_TEST((b->access == handlers::builtin_access::status) == is_status, name);
    }
}

BOOST_AUTO_TEST_CASE(status_routes_refuse_peers_outside_the_list) {
    const handlers::options o;  // default: loopback only
    const handlers::router r = default_router(o);
    for (std::string_view path : {"/metrics", "/stats"}) {
        const answer denied = get(r, path, lan_peer);
        BOOST_TEST(denied.status == 403u, path);
        BOOST_TEST(denied.body == http::status_body(403), path);
        // Allowed peers reach the route itself: outside a worker it has no server to report on.
        BOOST_TEST(get(r, path, loopback_peer).status == 503u, path);
        BOOST_TEST(get(r, path, loopback6_peer).status == 503u, path);
    }
    BOOST_TEST(get(r, "/plaintext", lan_peer).status == 200u);  // not a status route
    BOOST_TEST(get(r, "/metrics/x", lan_peer).status == 404u);  // endpoints, not trees, for everyone
}

BOOST_AUTO_TEST_CASE(the_gate_follows_the_configured_list_and_paths) {
    handlers::options o;
    o.metrics_path = "/internal/prom";
    o.status_allow = http::address_list();
    BOOST_REQUIRE(o.status_allow.try_add("10.9.9.9").empty());
    const handlers::router r = default_router(o);
    BOOST_TEST(get(r, "/internal/prom", lan_peer).status == 503u);
    BOOST_TEST(get(r, "/internal/prom", loopback_peer).status == 403u);  // loopback is not implied
    BOOST_TEST(get(r, "/stats", loopback_peer).status == 403u);
    // A route of the `routes` key mounting a status handler is guarded the same way.
    const handlers::router custom =
        handlers::build_router({{"/s", "stats", ""}, {"/m", "metrics", ""}}, handlers::route_factories{}, o);
    BOOST_TEST(get(custom, "/s", loopback_peer).status == 403u);
    BOOST_TEST(get(custom, "/m", loopback_peer).status == 403u);
    BOOST_TEST(get(custom, "/m", lan_peer).status == 503u);
    // "all" opens them.
    handlers::options open;
    BOOST_REQUIRE(open.status_allow.try_add("all").empty());
    BOOST_TEST(get(default_router(open), "/metrics", lan_peer).status == 503u);
}

BOOST_AUTO_TEST_CASE(healthz_tells_outsiders_only_that_it_is_up) {
    const handlers::router r = default_router(handlers::options{});  // outside features: the defaults
    const answer outside = get(r, "/healthz", lan_peer);
    BOOST_TEST(outside.status == 200u);
    BOOST_TEST(outside.body == "{\"status\":\"ok\"}\n");
    const answer inside = get(r, "/healthz", loopback_peer);
    BOOST_TEST(inside.status == 200u);
    BOOST_TEST(inside.body.find("\"pid\":") != std::string::npos, inside.body);
}

BOOST_AUTO_TEST_CASE(welcome_page_hides_its_stats_from_outsiders) {
    auto page = [](auto peer) {
        http::request req;
        req.path = "/";
        req.method = http::method::get;
        http::request_ctx ctx;
        ctx.bind(&req, {}, nullptr);
        ctx.set_remote_address(peer.data(), peer.size());
        BOOST_REQUIRE(handlers::welcome_page(ctx, "/"));
        return std::string(ctx.response().body());
    };
    const std::string outside = page(lan_peer);
    BOOST_TEST(outside.find("Welcome to fastfork") != std::string::npos);
    BOOST_TEST(outside.find("<table>") == std::string::npos);
    BOOST_TEST(outside.find("statistics outside a worker") == std::string::npos);
    BOOST_TEST(outside.find("status_allow") != std::string::npos);
    const std::string inside = page(loopback_peer);
    BOOST_TEST(inside.find("statistics outside a worker") != std::string::npos);  // it tried to show them
    BOOST_TEST(inside.find("shown only to the addresses") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
