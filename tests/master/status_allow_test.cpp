// The `status_allow` key (issue 10.6): the file's array and the flag's list, the default, and
// errors that name the key, the entry and the position of the value.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>

#include "master/config.hpp"
#include "master/config_file.hpp"

using namespace fastfork::master;

namespace {

std::string error_of(const std::string& text) {
    config cfg;
    auto err = load_config_text(text, "f.json", cfg);
    return err ? err->message : std::string();
}

bool allows(const config& cfg, std::array<std::uint8_t, 4> v4) {
    return cfg.handlers.status_allow.allows(v4);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(master_config_status_allow)

BOOST_AUTO_TEST_CASE(the_default_is_loopback_and_help_says_so) {
    const config cfg;
    BOOST_TEST(allows(cfg, {127, 0, 0, 1}));
    BOOST_TEST(!allows(cfg, {10, 0, 0, 5}));
    const std::string help = describe_settings();
    const auto at = help.find("  status_allow ");
    BOOST_REQUIRE(at != std::string::npos);
    BOOST_TEST(help.substr(at, help.find('\n', at) - at).find(R"(["127.0.0.0/8","::1"])") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_json_array_replaces_the_default) {
    config cfg;
    BOOST_REQUIRE(!load_config_text(R"({"status_allow": ["10.0.0.5", "fd00::/8"]})", "f.json", cfg));
    BOOST_TEST(allows(cfg, {10, 0, 0, 5}));
    BOOST_TEST(!allows(cfg, {127, 0, 0, 1}));  // a list names everyone who may; loopback is not implied
    BOOST_TEST(cfg.handlers.status_allow.entries().size() == 2u);
    config all;
    BOOST_REQUIRE(!load_config_text(R"({"status_allow": ["all"]})", "f.json", all));
    BOOST_TEST(allows(all, {203, 0, 113, 7}));
    config nobody;
    BOOST_REQUIRE(!load_config_text(R"({"status_allow": []})", "f.json", nobody));
    BOOST_TEST(nobody.handlers.status_allow.empty());
    BOOST_TEST(!allows(nobody, {127, 0, 0, 1}));
    config one;
    BOOST_REQUIRE(!load_config_text(R"({"status_allow": "192.168.0.0/16"})", "f.json", one));
    BOOST_TEST(allows(one, {192, 168, 4, 2}));
}

BOOST_AUTO_TEST_CASE(the_flag_takes_a_comma_separated_list) {
    config cfg;
    BOOST_REQUIRE(!build_config("", {{"status_allow", "127.0.0.1, 10.0.0.0/24"}}, cfg));
    BOOST_TEST(allows(cfg, {10, 0, 0, 200}));
    BOOST_TEST(!allows(cfg, {127, 0, 0, 2}));
    auto err = build_config("", {{"status_allow", "10.0.0.0/24,10.0.0.0/33"}}, cfg);
    BOOST_REQUIRE(err);
    BOOST_TEST(err->message.find("flag --status_allow: key \"status_allow\": entry 1 \"10.0.0.0/33\": prefix length "
                                 "33 is longer than 32 bits") == 0,
               err->message);
}

BOOST_AUTO_TEST_CASE(errors_name_the_key_the_entry_and_the_position) {
    const std::string e = error_of("{\n  \"workers\": 1,\n  \"status_allow\": [\"127.0.0.1\", \"10.0.0.300\"]\n}");
    BOOST_TEST(e.find("f.json:3:19: key \"status_allow\": entry 1 \"10.0.0.300\": expected an IPv4 address") == 0, e);
    BOOST_TEST(error_of(R"({"status_allow": ["10.1.2.3/8"]})")
                   .find("entry 0 \"10.1.2.3/8\": 10.1.2.3/8 has bits set "
                         "after the prefix; the block is 10.0.0.0/8") != std::string::npos);
    BOOST_TEST(error_of(R"({"status_allow": ["localhost"]})").find("entry 0 \"localhost\": expected an IPv4") !=
               std::string::npos);
    BOOST_TEST(error_of(R"({"status_allow": [5]})").find("key \"status_allow\": expected an array of strings") !=
               std::string::npos);
    BOOST_TEST(error_of(R"({"status_allow": {"a": 1}})").find("key \"status_allow\"") != std::string::npos);
    // A refused list leaves the previous one (the default) in force.
    config cfg;
    BOOST_REQUIRE(load_config_text(R"({"status_allow": ["all", "nope"]})", "f.json", cfg));
    BOOST_TEST(!cfg.handlers.status_allow.allows_everyone());
    BOOST_TEST(allows(cfg, {127, 0, 0, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
