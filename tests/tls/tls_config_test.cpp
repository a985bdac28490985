#include "master/tls_config.hpp"

#include <boost/test/unit_test.hpp>

#include "master/config_file.hpp"
#include "master/preflight.hpp"
#include "test_pki.hpp"

using namespace fastfork::master;
using namespace fastfork::tls::test;

namespace {

std::string error_of(const std::string& text) {
    config cfg;
    auto err = load_config_text(text, "f.json", cfg);
    return err ? err->message : std::string();
}

std::string one_listener(const std::string& tls) {
    return "{\"listen\": [\"127.0.0.1:8080\",\n  {\"address\": \"127.0.0.1:8443\",\n   \"tls\": " + tls + "}]}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_config)

BOOST_AUTO_TEST_CASE(a_listen_entry_carries_tls_beside_plain_strings) {
    config cfg;
    auto err = load_config_text(one_listener(R"({"certificate": "c.pem", "key": "k.pem", "min_version": "1.3",
        "ciphersuites": "TLS_AES_128_GCM_SHA256", "curves": "X25519", "hsts": {"max_age": 600, "include_subdomains": true}})"),
                                "f.json", cfg);
    BOOST_TEST_REQUIRE(!err, err->message);
    BOOST_TEST((cfg.listen == std::vector<std::string>{"127.0.0.1:8080", "127.0.0.1:8443"}));
    BOOST_TEST_REQUIRE(cfg.listen_tls.size() == 2u);
    BOOST_TEST(!cfg.listen_tls[0].has_value());
    const auto& t = *cfg.listen_tls[1];
    BOOST_TEST_REQUIRE(t.certificates.size() == 1u);
    BOOST_TEST(t.certificates[0].certificate == "c.pem");
    BOOST_TEST(t.certificates[0].key == "k.pem");
    BOOST_TEST(t.certificates[0].key_where == "key \"listen[1].tls.key\"");
    BOOST_TEST(t.min_version == "1.3");
    BOOST_TEST(t.ciphersuites == "TLS_AES_128_GCM_SHA256");
    BOOST_TEST(t.ciphers == fastfork::tls::default_ciphers);
    BOOST_TEST(t.curves == "X25519");
    BOOST_TEST(t.hsts_max_age == 600u);
    BOOST_TEST(t.hsts_include_subdomains);
    BOOST_TEST(cfg.tls.ticket_key_rotation == std::chrono::hours(12));  // the default
    BOOST_TEST(!cfg.tls.session_cache);
}

BOOST_AUTO_TEST_CASE(several_certificates_with_names_and_the_server_wide_tls_object) {
    config cfg;
    auto err = load_config_text(R"({"listen": [{"address": ":443", "tls": {"certificates": [
        {"certificate": "a.pem", "key": "a.key"},
        {"certificate": "b.pem", "key": "b.key", "names": ["*.b.test", "b.test"]}]}}],
        "tls": {"ticket_key_rotation": "90m", "ticket_key_files": ["t1.key", "t2.key"], "session_cache": true}})",
                                "f.json", cfg);
    BOOST_TEST_REQUIRE(!err, err->message);
    const auto& t = *cfg.listen_tls.at(0);
    BOOST_TEST_REQUIRE(t.certificates.size() == 2u);
    BOOST_TEST(t.certificates[0].names.empty());
    BOOST_TEST((t.certificates[1].names == std::vector<std::string>{"*.b.test", "b.test"}));
    BOOST_TEST(t.certificates[1].certificate_where == "key \"listen[0].tls.certificates[1].certificate\"");
    BOOST_TEST(cfg.tls.ticket_key_rotation == std::chrono::minutes(90));
    BOOST_TEST(cfg.tls.ticket_key_files.size() == 2u);
    BOOST_TEST(cfg.tls.session_cache);
}

BOOST_AUTO_TEST_CASE(errors_name_the_nested_key_and_its_position) {
    // Line 3 is `   "tls": {...}`; columns point at the offending value.
    BOOST_TEST(error_of(one_listener(R"({"certificate": "c.pem", "key": 5})")) ==
               "f.json:3:43: key \"listen[1].tls.key\": expected a non-empty string, not number");
    BOOST_TEST(error_of(one_listener(R"({"certificate": "c.pem", "key": "k", "min_version": "1.1"})")) ==
               "f.json:3:63: key \"listen[1].tls.min_version\": expected \"1.2\" or \"1.3\" (older versions are not "
               "offered)");
    BOOST_TEST(error_of(one_listener(R"({"certificate": "c.pem", "kee": "k"})"))
                   .find("f.json:3:43: key \"listen[1].tls.kee\": unknown field (expected one of: certificate, key,") ==
               0u);
    BOOST_TEST(error_of(one_listener(R"({"key": "k"})")) ==
               "f.json:3:11: key \"listen[1].tls\": field \"certificate\" is required");
    BOOST_TEST(error_of(one_listener(R"({"certificate": "c", "key": "k", "certificates": []})")) ==
               "f.json:3:11: key \"listen[1].tls\": give either \"certificate\" and \"key\" or \"certificates\", not "
               "both");
    BOOST_TEST(
        error_of(one_listener(R"({"certificates": [{"certificate": "c", "key": "k", "names": ["a.*.test"]}]})")) ==
        "f.json:3:72: key \"listen[1].tls.certificates[0].names[0]\": a wildcard must be the whole left-most "
        "label (\"*.example.com\")");
    BOOST_TEST(error_of(one_listener(R"({"certificate": "c", "key": "k", "hsts": "long"})"))
                   .find("f.json:3:52: key \"listen[1].tls.hsts\": expected max-age in seconds") == 0u);
    BOOST_TEST(error_of("{\"listen\": [\"127.0.0.1:1\", {\"address\": \"nowhere\"}]}")
                   .find("f.json:1:40: key \"listen[1].address\": ") == 0u);
    BOOST_TEST(error_of("{\"listen\": [\"127.0.0.1:1\", 7]}") ==
               "f.json:1:28: key \"listen[1]\": expected \"host:port\" or {\"address\": \"host:port\", \"tls\": {…}}");
    BOOST_TEST(error_of("{\"listen\": [7, \"127.0.0.1:1\"]}") ==
               "f.json:1:13: key \"listen[0]\": expected \"host:port\" or {\"address\": \"host:port\", \"tls\": {…}}");
    BOOST_TEST(error_of("{\"tls\": {\"ticket_key_rotation\": \"soon\"}}") ==
               "f.json:1:33: key \"tls.ticket_key_rotation\": expected a duration of at least 1s, like \"12h\" or "
               "\"30m\"");
}

BOOST_AUTO_TEST_CASE(flags_keep_the_plain_forms) {
    config cfg;
    auto err = build_config("", {{"listen", "127.0.0.1:1,[::1]:2"}}, cfg);
    BOOST_TEST_REQUIRE(!err, err->message);
    BOOST_TEST(cfg.listen.size() == 2u);
    BOOST_TEST(cfg.listen_tls.empty());
    err = build_config("", {{"listen", R"([{"address": "127.0.0.1:3", "tls": {"key": "k"}}])"}}, cfg);
    BOOST_TEST_REQUIRE(err.has_value());
    BOOST_TEST(err->message == "flag --listen: key \"listen[0].tls\": field \"certificate\" is required");
}

BOOST_AUTO_TEST_CASE(check_tls_loads_every_certificate_and_warns_about_expiry) {
    temp_dir dir;
    test_ca ca(dir);
    auto good = ca.issue("good", "good.test", {"good.test"});
    auto other = ca.issue("other", "other.test", {"other.test"});
    auto old = ca.issue("old", "old.test", {"old.test"}, key_kind::rsa, -10, -1);
    auto load = [&](const std::string& tls, config& cfg) {
        auto err = load_config_text(one_listener(tls), "f.json", cfg);
        BOOST_TEST_REQUIRE(!err, err->message);
    };
    config cfg;
    std::vector<std::string> warnings;
    load(R"({"certificate": ")" + good.certificate + R"(", "key": ")" + other.key + "\"}", cfg);
    auto err = check_tls(cfg, warnings);
    BOOST_TEST_REQUIRE(err.has_value());
    BOOST_TEST(err->message.find("key \"listen[1].tls.key\": \"" + other.key + "\" does not belong to") == 0u,
               err->message);

    config expired;
    load(R"({"certificates": [{"certificate": ")" + good.certificate + R"(", "key": ")" + good.key +
             R"("}, {"certificate": ")" + old.certificate + R"(", "key": ")" + old.key + "\"}]}",
         expired);
    BOOST_TEST(!check_tls(expired, warnings));
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("key \"listen[1].tls.certificates[1].certificate\": \"" + old.certificate +
                                "\": the certificate expired on ") == 0u,
               warnings[0]);

    config keyfile = expired;
    keyfile.tls.ticket_key_files = {dir.file("missing.key")};
    err = check_tls(keyfile, warnings);
    BOOST_TEST_REQUIRE(err.has_value());
    BOOST_TEST(err->message ==
               "key \"tls.ticket_key_files[0]\": \"" + dir.file("missing.key") + "\": No such file or directory");
}

BOOST_AUTO_TEST_SUITE_END()
