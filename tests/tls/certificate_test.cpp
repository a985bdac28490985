#include "tls/certificate.hpp"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "test_pki.hpp"

using namespace fastfork::tls;
using namespace fastfork::tls::test;

namespace {

certificate_options options_for(const issued& i) {
    certificate_options o;
    o.certificate = i.certificate;
    o.key = i.key;
    o.certificate_where = "key \"listen[0].tls.certificate\"";
    o.key_where = "key \"listen[0].tls.key\"";
    return o;
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_certificate)

BOOST_AUTO_TEST_CASE(loads_a_matching_pair_and_takes_names_from_the_san) {
    temp_dir dir;
    test_ca ca(dir);
    auto leaf = ca.issue("site", "site.test", {"site.test", "*.Site.Test"});
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST_REQUIRE(try_load_certificate(options_for(leaf), out, error, warnings), error);
    BOOST_TEST(warnings.empty());
    BOOST_TEST(out.key_type == EVP_PKEY_EC);
    BOOST_TEST((out.names == std::vector<std::string>{"site.test", "*.site.test"}));
    BOOST_TEST(sk_X509_num(out.chain.get()) == 1);  // the CA after the leaf
}

BOOST_AUTO_TEST_CASE(falls_back_to_the_cn_without_a_san_and_prefers_configured_names) {
    temp_dir dir;
    test_ca ca(dir);
    auto leaf = ca.issue("cn", "only-cn.test", {}, key_kind::rsa);
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST_REQUIRE(try_load_certificate(options_for(leaf), out, error, warnings), error);
    BOOST_TEST((out.names == std::vector<std::string>{"only-cn.test"}));
    BOOST_TEST(out.key_type == EVP_PKEY_RSA);
    auto o = options_for(leaf);
    o.names = {"Given.Test"};
    BOOST_TEST_REQUIRE(try_load_certificate(o, out, error, warnings), error);
    BOOST_TEST((out.names == std::vector<std::string>{"given.test"}));
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_names_the_key_the_file_and_errno) {
    temp_dir dir;
    test_ca ca(dir);
    auto leaf = ca.issue("site", "site.test", {"site.test"});
    auto o = options_for(leaf);
    o.certificate = dir.file("missing.crt");
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST(!try_load_certificate(o, out, error, warnings));
    BOOST_TEST(error ==
               "key \"listen[0].tls.certificate\": \"" + dir.file("missing.crt") + "\": No such file or directory");
    if (::geteuid() != 0) {  // root reads a mode-000 file anyway
        o = options_for(leaf);
        ::chmod(leaf.key.c_str(), 0);
        BOOST_TEST(!try_load_certificate(o, out, error, warnings));
        BOOST_TEST(error == "key \"listen[0].tls.key\": \"" + leaf.key + "\": Permission denied");
    }
}

BOOST_AUTO_TEST_CASE(bad_pem_gives_openssl_reason) {
    temp_dir dir;
    test_ca ca(dir);
    auto leaf = ca.issue("site", "site.test", {"site.test"});
    write_file(dir.file("junk.pem"), "this is not PEM\n");
    auto o = options_for(leaf);
    o.certificate = dir.file("junk.pem");
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST(!try_load_certificate(o, out, error, warnings));
    BOOST_TEST(contains(error, "key \"listen[0].tls.certificate\": \"" + dir.file("junk.pem") + "\""), error);
    BOOST_TEST(contains(error, "no start line"), error);
    o = options_for(leaf);
    o.key = leaf.certificate;  // a certificate where the key should be
    BOOST_TEST(!try_load_certificate(o, out, error, warnings));
    BOOST_TEST(contains(error, "key \"listen[0].tls.key\": \"" + leaf.certificate + "\": not a PEM private key"),
               error);
}

BOOST_AUTO_TEST_CASE(a_key_of_another_certificate_is_a_mismatch) {
    temp_dir dir;
    test_ca ca(dir);
    auto a = ca.issue("a", "a.test", {"a.test"});
    auto b = ca.issue("b", "b.test", {"b.test"});
    auto rsa = ca.issue("r", "r.test", {"r.test"}, key_kind::rsa);
    auto o = options_for(a);
    o.key = b.key;
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST(!try_load_certificate(o, out, error, warnings));
    BOOST_TEST(contains(error, "key \"listen[0].tls.key\": \"" + b.key + "\" does not belong to the certificate \"" +
                                   a.certificate + "\" (x509 certificate routines: key values mismatch)"),
               error);
    o.key = rsa.key;
    BOOST_TEST(!try_load_certificate(o, out, error, warnings));
    BOOST_TEST(contains(error, "key type mismatch"), error);
}

BOOST_AUTO_TEST_CASE(an_expired_or_future_certificate_loads_with_a_warning_naming_the_date) {
    temp_dir dir;
    test_ca ca(dir);
    auto old = ca.issue("old", "old.test", {"old.test"}, key_kind::ecdsa, -30, -2);
    loaded_certificate out;
    std::string error;
    std::vector<std::string> warnings;
    BOOST_TEST_REQUIRE(try_load_certificate(options_for(old), out, error, warnings), error);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(contains(warnings[0],
                        "key \"listen[0].tls.certificate\": \"" + old.certificate + "\": the certificate expired on "),
               warnings[0]);
    // The date is the certificate's notAfter: two days ago.
    std::time_t t = std::time(nullptr) - 2 * 86400;
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%d", std::gmtime(&t));
    BOOST_TEST(contains(warnings[0], day), warnings[0]);

    auto future = ca.issue("future", "future.test", {"future.test"}, key_kind::ecdsa, 3, 30);
    warnings.clear();
    BOOST_TEST_REQUIRE(try_load_certificate(options_for(future), out, error, warnings), error);
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(contains(warnings[0], "the certificate is not valid before "), warnings[0]);
}

BOOST_AUTO_TEST_SUITE_END()
