#include "master/config.hpp"

#include <boost/test/unit_test.hpp>

#include "master/config_file.hpp"
#include "master/master.hpp"
#include "master/privileges.hpp"
#include "master/units.hpp"
#include "worker/log.hpp"
#include "worker/options.hpp"

using namespace fastfork::master;

namespace {
std::string error_of(const std::string& text) {
    config cfg;
    auto err = load_config_text(text, "f.json", cfg);
    return err ? err->message : std::string();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(master_config)

BOOST_AUTO_TEST_CASE(applies_every_kind_of_value) {
    config cfg;
    BOOST_REQUIRE(!load_config_text(R"({"listen": ["127.0.0.1:9000", "[::1]:9000"], "workers": 3,
        "shutdown_timeout": "5s", "max_body": "1MiB", "normalize_header_names": false, "concurrency": 50})",
                                    "f.json", cfg));
    BOOST_CHECK_EQUAL(cfg.listen.size(), 2u);
    BOOST_CHECK_EQUAL(cfg.workers, 3u);
    BOOST_CHECK(cfg.shutdown_timeout == std::chrono::milliseconds(5000));
    BOOST_CHECK_EQUAL(cfg.worker.limits.max_body, 1u << 20);
    BOOST_CHECK(!cfg.worker.normalize_header_names);
    BOOST_CHECK_EQUAL(cfg.worker.concurrency, 50u);
}

BOOST_AUTO_TEST_CASE(workers_auto_means_one_per_cpu) {
    config cfg;
    BOOST_REQUIRE(!apply_setting(cfg, "workers", "auto"));
    BOOST_CHECK_EQUAL(cfg.workers, 0u);
    BOOST_CHECK_GE(resolved_workers(cfg), 1u);
}

BOOST_AUTO_TEST_CASE(unknown_key_names_position_and_suggests) {
    std::string e = error_of("{\n  \"workers\": 2,\n  \"wokers\": 3\n}");
    BOOST_CHECK_MESSAGE(e.find("f.json:3:3:") == 0, e);
    BOOST_CHECK_MESSAGE(e.find("did you mean \"workers\"") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(bad_value_names_key_and_value_position) {
    std::string e = error_of("{\"listen\": \"127.0.0.1:1\",\n \"shutdown_timeout\": \"5 parsecs\"}");
    BOOST_CHECK_MESSAGE(e.find("f.json:2:22:") == 0, e);
    BOOST_CHECK_MESSAGE(e.find("key \"shutdown_timeout\"") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(bad_json_names_position) {
    std::string e = error_of("{\n  \"workers\": 2,\n}");
    BOOST_CHECK_MESSAGE(e.find("f.json:3:") == 0, e);
    BOOST_CHECK_MESSAGE(e.find("invalid JSON") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(trailing_comma_is_reported_as_such) {
    std::string e = error_of("{\n  \"workers\": 2,\n}");
    BOOST_CHECK_MESSAGE(e.find("f.json:3:1: invalid JSON: trailing comma (at 2:15)") == 0, e);
    BOOST_CHECK_MESSAGE(e.find("expected string literal") == std::string::npos, e);
    e = error_of(R"({"listen": ["127.0.0.1:1", ], "workers": 2})");
    BOOST_CHECK_MESSAGE(e.find("f.json:1:28: invalid JSON: trailing comma (at 1:26) before ']'") == 0, e);
    // Other syntax errors keep nlohmann's description.
    e = error_of("{\"workers\": 2 \"x\": 1}");
    BOOST_CHECK_MESSAGE(e.find("trailing comma") == std::string::npos && e.find("invalid JSON") != std::string::npos,
                        e);
}

BOOST_AUTO_TEST_CASE(rejects_bad_addresses_wrong_types_and_duplicates) {
    BOOST_CHECK(error_of(R"({"listen": "300.1.2.3:80"})").find("key \"listen\"") != std::string::npos);
    BOOST_CHECK(error_of(R"({"workers": [1]})").find("key \"workers\"") != std::string::npos);
    BOOST_CHECK(error_of(R"({"workers": 1, "workers": 2})").find("twice") != std::string::npos);
    BOOST_CHECK(error_of(R"([1, 2])").find("JSON object") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(flags_override_the_file) {
    config cfg;
    overrides flags{{"workers", "7"}};
    BOOST_REQUIRE(!build_config("", flags, cfg));
    BOOST_CHECK_EQUAL(cfg.workers, 7u);
    auto err = build_config("", {{"workers", "many"}}, cfg);
    BOOST_REQUIRE(err);
    BOOST_CHECK_MESSAGE(err->message.find("flag --workers") == 0, err->message);
}

BOOST_AUTO_TEST_CASE(routes_take_an_array_or_an_object) {
    config cfg;
    BOOST_REQUIRE(!load_config_text(R"({"routes": [{"prefix": "/static/", "root": "/srv/www"},
        {"prefix": "/plaintext", "handler": "plaintext"}, {"prefix": "/", "root": "./public"}]})",
                                    "f.json", cfg));
    BOOST_REQUIRE_EQUAL(cfg.handlers.routes.size(), 3u);
    BOOST_CHECK_EQUAL(cfg.handlers.routes[0].prefix, "/static/");
    BOOST_CHECK_EQUAL(cfg.handlers.routes[0].root, "/srv/www");
    BOOST_CHECK_EQUAL(cfg.handlers.routes[1].handler, "plaintext");

    config obj;
    BOOST_REQUIRE(!load_config_text(R"({"routes": {"/p": "plaintext", "/s/": {"root": "/x"}}})", "f.json", obj));
    BOOST_REQUIRE_EQUAL(obj.handlers.routes.size(), 2u);
    BOOST_CHECK_EQUAL(obj.handlers.routes[0].prefix, "/p");
    BOOST_CHECK_EQUAL(obj.handlers.routes[0].handler, "plaintext");
    BOOST_CHECK_EQUAL(obj.handlers.routes[1].root, "/x");

    config none;
    BOOST_CHECK(none.handlers.routes.empty());  // no key: the default table (handlers/router.hpp)
}

BOOST_AUTO_TEST_CASE(route_errors_name_the_route_the_field_and_the_value_position) {
    std::string e = error_of(
        "{\n  \"workers\": 1,\n  \"routes\": [{\"prefix\": \"/\", \"root\": \".\"},\n"
        "    {\"prefix\": \"/x\", \"handler\": \"plaintxt\"}]\n}");
    BOOST_CHECK_MESSAGE(e.find("f.json:3:13: key \"routes\": route 1: field \"handler\": unknown handler "
                               "\"plaintxt\"") == 0,
                        e);
    BOOST_CHECK_MESSAGE(e.find("(got") == std::string::npos, e);  // the document is not echoed

    auto has = [](const std::string& text, const std::string& part) {
        std::string m = error_of(text);
        BOOST_CHECK_MESSAGE(m.find(part) != std::string::npos, m << " lacks " << part);
    };
    has(R"({"routes": [{"prefix": "/", "rot": "."}]})", "route 0: unknown field \"rot\"");
    has(R"({"routes": [{"root": "."}]})", "route 0: missing field \"prefix\"");
    has(R"({"routes": [{"prefix": "x", "root": "."}]})", "route 0: field \"prefix\"");
    has(R"({"routes": [{"prefix": "/", "root": 5}]})", "route 0: field \"root\": expected a string");
    has(R"({"routes": [{"prefix": "/"}]})", "route 0: expected a \"handler\" or a \"root\"");
    has(R"({"routes": [{"prefix": "/", "root": ".", "handler": "json"}]})", "route 0: expected only one");
    has(R"({"routes": [{"prefix": "/a/", "handler": "json"}, {"prefix": "/a", "root": "."}]})",
        "route 1: field \"prefix\": \"/a\" is routed already by route 0");
    has(R"({"routes": {"/static/": "/srv/www"}})", "route \"/static/\": field \"handler\": unknown handler");
    has(R"({"routes": {"/static/": "/srv/www"}})", "{\"root\": \"/srv/www\"}");
    has(R"({"routes": 5})", "expected an array of routes");
    has(R"({"routes": []})", "at least one route");
    has(R"({"routes": ["/"]})", "route 0: expected an object");
}

BOOST_AUTO_TEST_CASE(routes_flag_takes_json_text) {
    config cfg;
    BOOST_REQUIRE(!build_config("", {{"routes", R"([{"prefix": "/", "handler": "json"}])"}}, cfg));
    BOOST_REQUIRE_EQUAL(cfg.handlers.routes.size(), 1u);
    auto err = build_config("", {{"routes", "[{"}}, cfg);
    BOOST_REQUIRE(err);
    BOOST_CHECK_MESSAGE(err->message.find("flag --routes: key \"routes\": invalid JSON") == 0, err->message);
}

BOOST_AUTO_TEST_CASE(access_log_and_gzip_keys) {
    config cfg;
    BOOST_REQUIRE(!load_config_text(R"({"access_log": "/tmp/a.log", "access_log_format": "json", "gzip": false,
        "gzip_min_length": "2KiB", "gzip_level": 9})",
                                    "f.json", cfg));
    BOOST_CHECK_EQUAL(cfg.handlers.access_log, "/tmp/a.log");
    BOOST_CHECK(cfg.handlers.access_log_format == fastfork::handlers::log_format::json);
    BOOST_CHECK(!cfg.handlers.gzip);
    BOOST_CHECK_EQUAL(cfg.handlers.gzip_min_length, 2048u);
    BOOST_CHECK_EQUAL(cfg.handlers.gzip_level, 9);
    config d;
    BOOST_CHECK(d.handlers.access_log.empty());  // off by default
    BOOST_CHECK(d.handlers.gzip);
    BOOST_CHECK(error_of(R"({"access_log_format": "common"})").find("key \"access_log_format\"") != std::string::npos);
    BOOST_CHECK(error_of(R"({"gzip_level": 0})").find("key \"gzip_level\"") != std::string::npos);
    BOOST_CHECK(error_of(R"({"gzip_level": 10})").find("key \"gzip_level\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(log_level_is_applied) {
    config cfg;
    BOOST_REQUIRE(!apply_setting(cfg, "log_level", "debug"));
    apply_log_level(cfg);
    BOOST_CHECK(fastfork::worker::current_log_level() == fastfork::worker::log_level::debug);
    BOOST_CHECK(apply_setting(cfg, "log_level", "verbose"));
    cfg.log_level = "info";
    apply_log_level(cfg);
    BOOST_CHECK(fastfork::worker::current_log_level() == fastfork::worker::log_level::info);
}

BOOST_AUTO_TEST_CASE(instance_name_defaults_to_the_first_port) {
    config cfg;
    cfg.listen = {"127.0.0.1:18555"};
    BOOST_CHECK_EQUAL(instance_name(cfg), "18555");
    cfg.name = "edge";
    BOOST_CHECK_EQUAL(instance_name(cfg), "edge");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(master_config_roots)

// issue 10.4: a root that is a file, missing or unreadable fails validation (start, reload,
// --check-config) naming the key, the path and the reason, instead of 500 at request time.
BOOST_AUTO_TEST_CASE(issue_10_static_roots_are_checked_before_start) {
    auto error_for = [](std::vector<std::pair<std::string, std::string>> flags) {
        config cfg;
        auto err = build_config("", flags, cfg);
        return err ? err->message : std::string();
    };
    BOOST_CHECK_EQUAL(error_for({{"root", "/"}}), "");
    const std::string file_err = error_for({{"root", "/etc/passwd"}});
    BOOST_CHECK_MESSAGE(file_err.find("key \"root\": \"/etc/passwd\": not a directory") != std::string::npos, file_err);
    const std::string missing = error_for({{"root", "/nonexistent-ff-root"}});
    BOOST_CHECK_MESSAGE(
        missing.find("key \"root\": \"/nonexistent-ff-root\": No such file or directory") != std::string::npos,
        missing);
    const std::string route = error_for({{"routes", R"([{"prefix": "/p", "handler": "plaintext"},
                                                      {"prefix": "/s/", "root": "/nonexistent-ff-root"}])"}});
    BOOST_CHECK_MESSAGE(route.find("key \"routes[1].root\": \"/nonexistent-ff-root\"") != std::string::npos, route);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(master_config_help)

// The defaults --help prints come from the structs (worker::options{}, http::limits{}, config{}),
// so they cannot drift from the code: each line shows what a default config holds.
BOOST_AUTO_TEST_CASE(help_shows_the_values_of_default_options) {
    const std::string help = describe_settings();
    const config defaults;
    const fastfork::worker::options opts;
    auto line_of = [&](std::string_view key) {
        auto at = help.find("  " + std::string(key) + " ");
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, key);
        return help.substr(at, help.find('\n', at) - at);
    };
    for (const auto& s : settings()) {
        std::string line = line_of(s.key);
        BOOST_CHECK_MESSAGE(line.find(" " + s.show(defaults) + " ") != std::string::npos, line);
    }
    BOOST_CHECK(line_of("concurrency").find(" " + std::to_string(opts.concurrency) + " ") != std::string::npos);
    BOOST_CHECK(line_of("stack_size").find("\"" + format_size(opts.stack_size) + "\"") != std::string::npos);
    BOOST_CHECK(line_of("max_body").find("\"" + format_size(opts.limits.max_body) + "\"") != std::string::npos);
    BOOST_CHECK(line_of("idle_timeout").find("\"" + format_duration(opts.idle_timeout) + "\"") != std::string::npos);
    BOOST_CHECK(line_of("backlog").find(" " + std::to_string(defaults.backlog) + " ") != std::string::npos);
    BOOST_CHECK(line_of("gzip").find(fastfork::handlers::options{}.gzip ? " true " : " false ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_values_follow_the_struct_and_read_back) {
    config changed;
    changed.worker.concurrency = 1234;
    changed.worker.header_timeout = std::chrono::milliseconds(2500);
    const std::string help = describe_settings(changed);
    BOOST_CHECK(help.find(" 1234 ") != std::string::npos);
    BOOST_CHECK(help.find("\"2500ms\"") != std::string::npos);
    // Every scalar default, fed back as a value, gives the same setting: the shown text is real syntax.
    for (const auto& s : settings()) {
        if (s.kind != "duration" && s.kind != "size" && s.kind != "count" && s.kind != "bool") continue;
        std::string text = s.show(config{});
        if (text.size() >= 2 && text.front() == '"') text = text.substr(1, text.size() - 2);
        config fresh;
        BOOST_CHECK_MESSAGE(!apply_setting(fresh, s.key, text), s.key);
        BOOST_CHECK_EQUAL(s.show(fresh), s.show(config{}));
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(master_config_user)

BOOST_AUTO_TEST_CASE(unknown_user_or_group_names_the_key) {
    std::string e = error_of("{\"workers\": 1,\n \"user\": \"no-such-user-ff\"}");
    BOOST_CHECK_MESSAGE(e.find("f.json:2:10: key \"user\": no such user") == 0, e);
    e = error_of(R"({"group": "no-such-group-ff"})");
    BOOST_CHECK_MESSAGE(e.find("key \"group\": no such group") != std::string::npos, e);
    config cfg;
    BOOST_CHECK(!apply_setting(cfg, "user", "root"));
    BOOST_CHECK(!apply_setting(cfg, "user", "65534"));
}

BOOST_AUTO_TEST_CASE(only_a_root_master_switches_users) {
    config cfg;
    worker_identity id;
    BOOST_CHECK(resolve_worker_identity(cfg, 0, id).empty());
    BOOST_CHECK(!id.drop);  // no user: the workers stay who the master is
    cfg.user = "0";
    BOOST_CHECK(resolve_worker_identity(cfg, 0, id).empty());
    BOOST_CHECK(id.drop && id.uid == 0);
    cfg.user = "12345";
    BOOST_CHECK(resolve_worker_identity(cfg, 0, id).empty());
    BOOST_CHECK(id.drop && id.uid == 12345u);
    std::string e = resolve_worker_identity(cfg, 4242, id);
    BOOST_CHECK_MESSAGE(e.find("key \"user\": only a master started as root") == 0, e);
}

BOOST_AUTO_TEST_SUITE_END()
