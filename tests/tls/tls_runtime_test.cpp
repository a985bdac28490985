#include "master/tls_runtime.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "shm/clock.hpp"
#include "test_pki.hpp"

using namespace fastfork;
using namespace fastfork::master;
using namespace fastfork::tls::test;

namespace {

config tls_config(const issued& cert, std::chrono::milliseconds rotation) {
    config cfg;
    cfg.listen = {"127.0.0.1:1", "127.0.0.1:2"};
    tls::listener_options t;
    t.certificates.push_back(
        {.certificate = cert.certificate, .key = cert.key, .certificate_where = "c", .key_where = "k"});
    cfg.listen_tls = {std::nullopt, t};
    cfg.tls.ticket_key_rotation = rotation;
    return cfg;
}

// The names of the keys in the runtime's ring, seen the way a worker sees them.
std::vector<std::array<unsigned char, 16>> ring_of(const tls_runtime& rt) {
    std::string error;
    auto view = tls::ticket_keys::try_create(error, ::dup(rt.ticket_keys_fd()));
    BOOST_TEST_REQUIRE(view != nullptr, error);
    std::array<tls::ticket_key, tls::ticket_keys::max_keys> ring;
    std::vector<std::array<unsigned char, 16>> names;
    for (std::size_t i = 0, n = view->snapshot(ring); i < n; ++i) names.push_back(ring[i].name);
    return names;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_runtime_master)

BOOST_AUTO_TEST_CASE(rotates_on_schedule_and_keeps_keys_across_generations) {
    temp_dir dir;
    test_ca ca(dir);
    auto cert = ca.issue("site", "site.test", {"site.test"});
    tls_runtime rt;
    std::string error;
    BOOST_TEST_REQUIRE(rt.prepare(1, tls_config(cert, std::chrono::seconds(60)), error), error);
    const auto* g1 = rt.contexts(1);
    BOOST_TEST_REQUIRE(g1 != nullptr);
    BOOST_TEST(g1->at(0) == nullptr);  // the plain listener
    BOOST_TEST(g1->at(1) != nullptr);
    const auto first = ring_of(rt);
    BOOST_TEST_REQUIRE(first.size() == 1u);

    const std::uint64_t now = shm::monotonic_ms();
    rt.tick(now + 1000);  // not due yet
    BOOST_TEST(ring_of(rt) == first);

    // A reload (generation 2) keeps the keys: tickets of generation 1 stay good.
    BOOST_TEST_REQUIRE(rt.prepare(2, tls_config(cert, std::chrono::seconds(60)), error), error);
    BOOST_TEST(ring_of(rt) == first);
    rt.keep_only(2);
    BOOST_TEST(rt.contexts(1) == nullptr);
    BOOST_TEST(rt.contexts(2) != nullptr);

    rt.tick(now + 61'000);
    auto after_one = ring_of(rt);
    BOOST_TEST_REQUIRE(after_one.size() == 2u);
    BOOST_TEST((after_one[1] == first[0]));  // the previous key still decrypts
    rt.tick(now + 61'500);                   // the next one is a period later
    BOOST_TEST(ring_of(rt) == after_one);
    rt.tick(now + 122'000);
    auto after_two = ring_of(rt);
    BOOST_TEST((after_two[1] == after_one[0]));
    BOOST_TEST((after_two[0] != first[0] && after_two[1] != first[0]));  // the first key is gone
}

BOOST_AUTO_TEST_CASE(a_bad_certificate_changes_nothing) {
    temp_dir dir;
    test_ca ca(dir);
    auto cert = ca.issue("site", "site.test", {"site.test"});
    auto other = ca.issue("other", "other.test", {"other.test"});
    tls_runtime rt;
    std::string error;
    BOOST_TEST_REQUIRE(rt.prepare(1, tls_config(cert, std::chrono::hours(12)), error), error);
    const auto keys = ring_of(rt);
    auto bad = tls_config(cert, std::chrono::hours(12));
    bad.listen_tls[1]->certificates[0].key = other.key;
    BOOST_TEST(!rt.prepare(2, bad, error));
    BOOST_TEST(error.find("key values mismatch") != std::string::npos, error);
    BOOST_TEST(rt.contexts(2) == nullptr);
    BOOST_TEST(rt.contexts(1) != nullptr);
    BOOST_TEST(ring_of(rt) == keys);
}

BOOST_AUTO_TEST_CASE(key_files_replace_generated_keys_and_do_not_rotate) {
    temp_dir dir;
    test_ca ca(dir);
    auto cert = ca.issue("site", "site.test", {"site.test"});
    std::string a(80, 'a'), b(80, 'b');
    write_file(dir.file("a.key"), a);
    write_file(dir.file("b.key"), b);
    tls_runtime rt;
    std::string error;
    auto cfg = tls_config(cert, std::chrono::seconds(1));
    BOOST_TEST_REQUIRE(rt.prepare(1, cfg, error), error);
    cfg.tls.ticket_key_files = {dir.file("b.key"), dir.file("a.key")};
    BOOST_TEST_REQUIRE(rt.prepare(2, cfg, error), error);
    auto ring = ring_of(rt);
    BOOST_TEST_REQUIRE(ring.size() == 2u);
    BOOST_TEST(ring[0][0] == 'b');
    BOOST_TEST(ring[1][0] == 'a');
    rt.tick(shm::monotonic_ms() + 3600'000);
    BOOST_TEST(ring_of(rt) == ring);
}

BOOST_AUTO_TEST_SUITE_END()
