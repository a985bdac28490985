#include "handlers/router.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace fastfork;
using handlers::route_fn;
using handlers::route_spec;

namespace {

// A route that records what it was asked for and answers with its name.
route_fn named(std::string name, std::vector<std::string>* seen = nullptr, bool answers = true) {
    return [name, seen, answers](http::request_ctx& ctx, std::string_view rest) {
        if (seen) seen->push_back(name + ":" + std::string(rest));
        if (!answers) return false;
        ctx.set_body(name);
        return true;
    };
}

// The route name that serves `path` ("" when none), and the rest it gets.
std::string served_by(const handlers::router& r, std::string_view path, std::string* rest_out = nullptr) {
    std::string_view rest;
    const route_fn* fn = r.match(path, rest);
    if (!fn) return {};
    if (rest_out) *rest_out = std::string(rest);
    http::request req;
    req.path = path;
    http::request_ctx ctx;
    ctx.bind(&req, {}, nullptr);
    (*fn)(ctx, rest);
    return std::string(ctx.response().body());
}

struct routed {
    unsigned status;
    std::string body;
};

routed route(const handlers::router& r, std::string_view path) {
    http::request req;
    req.path = path;
    http::request_ctx ctx;
    ctx.bind(&req, {}, nullptr);
    r(ctx);
    return {ctx.response().status(), std::string(ctx.response().body())};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_router)

BOOST_AUTO_TEST_CASE(longest_prefix_wins_whatever_the_order_of_adding) {
    handlers::router r;
    BOOST_REQUIRE(r.add("/", named("root")));
    BOOST_REQUIRE(r.add("/static/", named("static")));
    BOOST_REQUIRE(r.add("/static/img", named("img")));
    BOOST_REQUIRE(r.add("/plaintext", named("plaintext")));
    std::string rest;
    BOOST_CHECK_EQUAL(served_by(r, "/static/img/a.png", &rest), "img");
    BOOST_CHECK_EQUAL(rest, "/a.png");
    BOOST_CHECK_EQUAL(served_by(r, "/static/css/a.css", &rest), "static");
    BOOST_CHECK_EQUAL(rest, "/css/a.css");
    BOOST_CHECK_EQUAL(served_by(r, "/plaintext", &rest), "plaintext");
    BOOST_CHECK_EQUAL(rest, "");
    BOOST_CHECK_EQUAL(served_by(r, "/index.html", &rest), "root");
    BOOST_CHECK_EQUAL(rest, "/index.html");
    BOOST_CHECK_EQUAL(served_by(r, "/", &rest), "root");
    BOOST_CHECK_EQUAL(rest, "/");
}

BOOST_AUTO_TEST_CASE(matches_whole_path_segments_only) {
    handlers::router r;
    BOOST_REQUIRE(r.add("/static/", named("static")));
    BOOST_REQUIRE(r.add("/plaintext", named("plaintext")));
    std::string rest;
    BOOST_CHECK_EQUAL(served_by(r, "/static", &rest), "static");  // the mount point itself
    BOOST_CHECK_EQUAL(rest, "");
    BOOST_CHECK_EQUAL(served_by(r, "/statics/x"), "");
    BOOST_CHECK_EQUAL(served_by(r, "/plaintext2"), "");
    BOOST_CHECK_EQUAL(served_by(r, "/plaintext.txt"), "");
    BOOST_CHECK_EQUAL(served_by(r, "/plaintext/x", &rest), "plaintext");
    BOOST_CHECK_EQUAL(rest, "/x");
    BOOST_CHECK_EQUAL(served_by(r, "/Static/x"), "");  // case-sensitive, like nginx
}

BOOST_AUTO_TEST_CASE(targets_without_a_path_match_nothing) {
    handlers::router r;
    BOOST_REQUIRE(r.add("/", named("root")));
    BOOST_CHECK_EQUAL(served_by(r, ""), "");  // authority- and asterisk-form
    BOOST_CHECK_EQUAL(served_by(r, "*"), "");
}

BOOST_AUTO_TEST_CASE(same_normalized_prefix_is_refused) {
    handlers::router r;
    BOOST_CHECK(r.add("/static", named("a")));
    BOOST_CHECK(!r.add("/static/", named("b")));
    BOOST_CHECK(r.add("/", named("root")));
    BOOST_CHECK(!r.add("//", named("root2")));
    BOOST_CHECK_EQUAL(r.size(), 2u);
    BOOST_CHECK_EQUAL(served_by(r, "/static/x"), "a");
}

BOOST_AUTO_TEST_CASE(answers_404_when_nothing_matches_or_the_route_declines) {
    handlers::router r;
    std::vector<std::string> seen;
    BOOST_REQUIRE(r.add("/files", named("files", &seen, /*answers=*/false)));
    auto a = route(r, "/files/missing.txt");
    BOOST_CHECK_EQUAL(a.status, 404u);
    BOOST_CHECK_EQUAL(a.body, "404 Not Found\n");
    BOOST_REQUIRE_EQUAL(seen.size(), 1u);
    BOOST_CHECK_EQUAL(seen[0], "files:/missing.txt");
    BOOST_CHECK_EQUAL(route(r, "/elsewhere").status, 404u);
}

BOOST_AUTO_TEST_CASE(checks_specs_and_names_the_field) {
    auto why = [](route_spec s) { return handlers::check_route_spec(s); };
    BOOST_CHECK_EQUAL(why({"/", "plaintext", ""}), "");
    BOOST_CHECK_EQUAL(why({"/static/", "", "/srv/www"}), "");
    BOOST_CHECK(why({"static/", "", "/srv"}).find("field \"prefix\"") == 0);
    BOOST_CHECK(why({"", "json", ""}).find("field \"prefix\"") == 0);
    BOOST_CHECK(why({"/a?b", "json", ""}).find("field \"prefix\"") == 0);
    BOOST_CHECK(why({"/a b", "json", ""}).find("field \"prefix\"") == 0);
    std::string e = why({"/x", "plaintxt", ""});
    BOOST_CHECK_MESSAGE(e.find("field \"handler\": unknown handler \"plaintxt\"") == 0, e);
    BOOST_CHECK_MESSAGE(
        e.find("plaintext, json, sleep, healthz, metrics, stats, dashboard, welcome, echo, sse_clock, ws_echo") !=
            std::string::npos,
        e);
    BOOST_CHECK(why({"/x", "json", "/srv"}).find("only one") != std::string::npos);
    BOOST_CHECK(why({"/x", "", ""}).find("\"handler\" or a \"root\"") != std::string::npos);
    for (std::string_view name : handlers::builtin_handler_names)
        BOOST_CHECK_EQUAL(why({"/x", std::string(name), ""}), "");
}

BOOST_AUTO_TEST_CASE(default_table_has_the_builtins_then_root_or_welcome) {
    handlers::options o;
    auto routes = handlers::default_routes(o, "public");
    std::vector<std::string> got;
    for (const auto& r : routes) got.push_back(r.prefix + "=" + (r.root.empty() ? r.handler : "root:" + r.root));
    std::vector<std::string> want = {"/plaintext=plaintext", "/json=json",   "/sleep=sleep",         "/healthz=healthz",
                                     "/metrics=metrics",     "/stats=stats", "/dashboard=dashboard", "/=root:public"};
    BOOST_CHECK_EQUAL_COLLECTIONS(got.begin(), got.end(), want.begin(), want.end());

    o.metrics_path = "";
    o.stats_path = "/json";  // taken by the built-in: not routed twice
    o.dashboard_path = "";
    routes = handlers::default_routes(o, "");
    BOOST_CHECK_EQUAL(routes.size(), 5u);
    BOOST_CHECK_EQUAL(routes.back().prefix, "/");
    BOOST_CHECK_EQUAL(routes.back().handler, "welcome");
}

BOOST_AUTO_TEST_CASE(builds_builtins_static_roots_and_welcome) {
    handlers::options o;
    std::vector<std::string> made;
    handlers::route_factories f;
    f.static_root = [&made](const route_spec& spec, const handlers::options&) {
        made.push_back(spec.prefix + "->" + spec.root);
        return named("files:" + spec.root);
    };
    std::vector<route_spec> specs = {
        {"/assets/", "", "/srv/a"}, {"/", "", "/srv/www"}, {"/ping", "plaintext", ""}, {"/hello", "welcome", ""}};
    handlers::router r = handlers::build_router(specs, f, o);
    BOOST_CHECK_EQUAL(r.size(), 4u);
    BOOST_REQUIRE_EQUAL(made.size(), 2u);
    BOOST_CHECK_EQUAL(made[0], "/assets/->/srv/a");
    BOOST_CHECK_EQUAL(route(r, "/assets/app.js").body, "files:/srv/a");
    BOOST_CHECK_EQUAL(route(r, "/index.html").body, "files:/srv/www");
    BOOST_CHECK_EQUAL(route(r, "/ping").body, "Hello, World!");
    BOOST_CHECK_EQUAL(route(r, "/ping/more").status, 404u);  // built-ins are endpoints
    // No welcome factory: the one-line built-in page, at the mount point only.
    BOOST_CHECK(route(r, "/hello").body.find("fastfork is running") == 0);
    BOOST_CHECK_EQUAL(route(r, "/hello/x").status, 404u);
}

BOOST_AUTO_TEST_CASE(build_errors_name_the_route) {
    handlers::options o;
    handlers::route_factories none;
    try {
        (void)handlers::build_router({{"/", "json", ""}, {"/static/", "", "/srv"}}, none, o);
        BOOST_FAIL("expected an exception");
    } catch (const std::runtime_error& e) {
        BOOST_CHECK_MESSAGE(std::string(e.what()).find("route 1 (\"/static/\")") == 0, e.what());
    }
    handlers::route_factories failing;
    failing.static_root = [](const route_spec&, const handlers::options&) -> route_fn {
        throw std::runtime_error("cannot open the root");
    };
    // issue 10.4: a broken static root fails only its own prefix; the built-ins keep working.
    const handlers::router r =
        handlers::build_router({{"/x", "", "/nope"}, {"/plaintext", "plaintext", ""}}, failing, o);
    BOOST_CHECK_EQUAL(route(r, "/x/a").status, 500u);
    BOOST_CHECK_EQUAL(route(r, "/plaintext").status, 200u);
    BOOST_CHECK_THROW((void)handlers::build_router({{"/a", "json", ""}, {"/a/", "plaintext", ""}}, none, o),
                      std::runtime_error);
}

BOOST_AUTO_TEST_CASE(routed_handler_builds_once_from_the_defaults_outside_a_server) {
    int builds = 0;
    handlers::route_factories f;
    f.default_root = [&builds](const handlers::options&) {
        ++builds;
        return std::string();
    };
    handlers::routed_handler h(std::move(f));
    handlers::routed_handler copy = h;  // copies share the table
    http::request req;
    req.path = "/plaintext";
    http::request_ctx ctx;
    ctx.bind(&req, {}, nullptr);
    h(ctx);
    BOOST_CHECK_EQUAL(ctx.response().body(), "Hello, World!");
    ctx.reset();
    req.path = "/";
    ctx.bind(&req, {}, nullptr);
    copy(ctx);
    BOOST_CHECK(ctx.response().body().find("fastfork is running") == 0);
    BOOST_CHECK_EQUAL(builds, 1);
}

BOOST_AUTO_TEST_SUITE_END()
