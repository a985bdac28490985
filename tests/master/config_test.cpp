#include "master/config.hpp"

#include <boost/test/unit_test.hpp>

#include "master/config_file.hpp"
#include "master/master.hpp"

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

BOOST_AUTO_TEST_CASE(instance_name_defaults_to_the_first_port) {
    config cfg;
    cfg.listen = {"127.0.0.1:18555"};
    BOOST_CHECK_EQUAL(instance_name(cfg), "18555");
    cfg.name = "edge";
    BOOST_CHECK_EQUAL(instance_name(cfg), "edge");
}

BOOST_AUTO_TEST_SUITE_END()
