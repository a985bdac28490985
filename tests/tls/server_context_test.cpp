#include "tls/server_context.hpp"

#include <boost/test/unit_test.hpp>

#include "handshake.hpp"
#include "test_pki.hpp"

using namespace fastfork::tls;
using namespace fastfork::tls::test;

namespace {

certificate_options cert(const issued& i, std::vector<std::string> names = {}) {
    certificate_options o;
    o.certificate = i.certificate;
    o.key = i.key;
    o.names = std::move(names);
    o.certificate_where = "key \"listen[0].tls.certificates[].certificate\"";
    o.key_where = "key \"listen[0].tls.certificates[].key\"";
    return o;
}

std::unique_ptr<server_context> build(const listener_options& o, std::string& error, warnings& w) {
    return server_context::try_create(o, server_options{}, nullptr, error, w);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_server_context)

BOOST_AUTO_TEST_CASE(sni_picks_exact_names_before_wildcards_and_defaults_to_the_first) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.where = "key \"listen[0].tls\"";
    o.certificates = {cert(ca.issue("default", "default.test", {"default.test"})),
                      cert(ca.issue("wild", "wild.example.test", {"*.example.test"})),
                      cert(ca.issue("exact", "api.example.test", {"api.example.test"}))};
    std::string error;
    warnings w;
    auto ctx = build(o, error, w);
    BOOST_TEST_REQUIRE(ctx != nullptr, error);
    BOOST_TEST(w.empty());
    BOOST_TEST(ctx->select_index("default.test") == 0u);
    BOOST_TEST(ctx->select_index("www.example.test") == 1u);
    BOOST_TEST(ctx->select_index("WWW.Example.Test.") == 1u);  // case and the root dot do not matter
    BOOST_TEST(ctx->select_index("api.example.test") == 2u);   // exact beats the wildcard
    BOOST_TEST(ctx->select_index("example.test") == 0u);       // a wildcard needs one label
    BOOST_TEST(ctx->select_index("a.b.example.test") == 0u);   // and only one
    BOOST_TEST(ctx->select_index("unknown.test") == 0u);

    // The same through real handshakes: the certificate the client receives.
    BOOST_TEST(run_handshake(ctx->native(), {.sni = "api.example.test"}).subject_cn == "api.example.test");
    BOOST_TEST(run_handshake(ctx->native(), {.sni = "x.example.test"}).subject_cn == "wild.example.test");
    BOOST_TEST(run_handshake(ctx->native(), {.sni = "nobody.test"}).subject_cn == "default.test");
    BOOST_TEST(run_handshake(ctx->native(), {}).subject_cn == "default.test");
}

BOOST_AUTO_TEST_CASE(ecdsa_and_rsa_for_the_same_names_are_chosen_by_the_client) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.certificates = {cert(ca.issue("ec", "ec.site.test", {"site.test"}, key_kind::ecdsa)),
                      cert(ca.issue("rsa", "rsa.site.test", {"site.test"}, key_kind::rsa))};
    std::string error;
    warnings w;
    auto ctx = build(o, error, w);
    BOOST_TEST_REQUIRE(ctx != nullptr, error);
    auto any = run_handshake(ctx->native(), {.sni = "site.test"});
    BOOST_TEST(any.ok);
    BOOST_TEST(any.key_type == EVP_PKEY_EC);
    auto rsa_only =
        run_handshake(ctx->native(), {.sni = "site.test", .sigalgs = "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"});
    BOOST_TEST(rsa_only.ok);
    BOOST_TEST(rsa_only.key_type == EVP_PKEY_RSA);
    BOOST_TEST(rsa_only.subject_cn == "rsa.site.test");
}

BOOST_AUTO_TEST_CASE(two_certificates_of_one_key_type_for_the_same_names_are_refused) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.certificates = {cert(ca.issue("a", "a", {"site.test"})), cert(ca.issue("b", "b", {"site.test"}))};
    std::string error;
    warnings w;
    BOOST_TEST(build(o, error, w) == nullptr);
    BOOST_TEST(error.find("another ECDSA certificate is given for the same names") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_name_claimed_twice_is_warned_about) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.where = "key \"listen[0].tls\"";
    o.certificates = {cert(ca.issue("a", "a", {"a.test", "b.test"})), cert(ca.issue("b", "b", {"b.test"}), {"b.test"})};
    // Different name sets, so two contexts; b.test goes to the first.
    o.certificates[1].names = {"b.test", "c.test"};
    std::string error;
    warnings w;
    auto ctx = build(o, error, w);
    BOOST_TEST_REQUIRE(ctx != nullptr, error);
    BOOST_TEST_REQUIRE(w.size() == 1u);
    BOOST_TEST(w[0].find("\"b.test\" belongs to an earlier certificate") != std::string::npos, w[0]);
}

BOOST_AUTO_TEST_CASE(defaults_refuse_old_versions_and_alpn_offers_http11) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.certificates = {cert(ca.issue("a", "a.test", {"a.test"}))};
    o.hsts_max_age = 31536000;
    o.hsts_include_subdomains = true;
    std::string error;
    warnings w;
    auto ctx = build(o, error, w);
    BOOST_TEST_REQUIRE(ctx != nullptr, error);
    BOOST_TEST(ctx->hsts_header_value() == "max-age=31536000; includeSubDomains");
    BOOST_TEST(SSL_CTX_get_min_proto_version(ctx->native()) == TLS1_2_VERSION);
    BOOST_TEST(!run_handshake(ctx->native(), {.max_version = TLS1_1_VERSION}).ok);
    auto tls12 = run_handshake(ctx->native(), {.max_version = TLS1_2_VERSION, .alpn_wire = "\x02h2\x08http/1.1"});
    BOOST_TEST(tls12.ok);
    BOOST_TEST(tls12.alpn == "http/1.1");
    BOOST_TEST(!run_handshake(ctx->native(), {.alpn_wire = std::string("\x02h2", 3)}).ok);  // nothing in common

    o.min_version = "1.3";
    auto only13 = build(o, error, w);
    BOOST_TEST_REQUIRE(only13 != nullptr, error);
    BOOST_TEST(!run_handshake(only13->native(), {.max_version = TLS1_2_VERSION}).ok);
    BOOST_TEST(run_handshake(only13->native(), {}).ok);
    BOOST_TEST(only13->hsts_header_value() == "max-age=31536000; includeSubDomains");
}

BOOST_AUTO_TEST_CASE(bad_suite_and_curve_lists_name_the_field) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.where = "key \"listen[1].tls\"";
    o.certificates = {cert(ca.issue("a", "a.test", {"a.test"}))};
    std::string error;
    warnings w;
    o.ciphers = "NOPE-CIPHER";
    BOOST_TEST(build(o, error, w) == nullptr);
    BOOST_TEST(error.find("key \"listen[1].tls\": field \"ciphers\": \"NOPE-CIPHER\": ") == 0u, error);
    o.ciphers = default_ciphers;
    o.curves = "P-999";
    BOOST_TEST(build(o, error, w) == nullptr);
    BOOST_TEST(error.find("key \"listen[1].tls\": field \"curves\": \"P-999\"") == 0u, error);
}

BOOST_AUTO_TEST_SUITE_END()
