#include "tls/ticket_keys.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "handshake.hpp"
#include "test_pki.hpp"
#include "tls/server_context.hpp"

using namespace fastfork::tls;
using namespace fastfork::tls::test;

namespace {

ticket_key key_named(unsigned char c) {
    ticket_key k = *generate_ticket_key();
    k.name.fill(c);
    return k;
}

std::vector<unsigned char> names_in(const ticket_keys& keys) {
    std::array<ticket_key, ticket_keys::max_keys> ring;
    std::vector<unsigned char> out;
    for (std::size_t i = 0, n = keys.snapshot(ring); i < n; ++i) out.push_back(ring[i].name[0]);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_ticket_keys)

BOOST_AUTO_TEST_CASE(rotation_keeps_the_previous_key_and_drops_it_at_the_second) {
    std::string error;
    auto keys = ticket_keys::try_create(error);
    BOOST_TEST_REQUIRE(keys != nullptr, error);
    BOOST_TEST(keys->set({key_named('A')}));
    BOOST_TEST((names_in(*keys) == std::vector<unsigned char>{'A'}));
    keys->rotate(key_named('B'));
    BOOST_TEST((names_in(*keys) == std::vector<unsigned char>{'B', 'A'}));
    keys->rotate(key_named('C'));
    BOOST_TEST((names_in(*keys) == std::vector<unsigned char>{'C', 'B'}));
    BOOST_TEST(keys->rotations() == 2u);
    BOOST_TEST(!keys->set({}));
}

BOOST_AUTO_TEST_CASE(a_forked_reader_sees_the_masters_rotation_without_reopening) {
    std::string error;
    auto keys = ticket_keys::try_create(error);
    BOOST_TEST_REQUIRE(keys != nullptr, error);
    keys->set({key_named('A')});
    int to_child[2], to_parent[2];
    BOOST_TEST_REQUIRE(::pipe(to_child) == 0);
    BOOST_TEST_REQUIRE(::pipe(to_parent) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        char go;
        if (::read(to_child[0], &go, 1) != 1) ::_exit(2);
        auto names = names_in(*keys);
        char answer[2] = {static_cast<char>(names.size() > 0 ? names[0] : 0),
                          static_cast<char>(names.size() > 1 ? names[1] : 0)};
        ::_exit(::write(to_parent[1], answer, 2) == 2 ? 0 : 1);
    }
    keys->rotate(key_named('B'));
    BOOST_TEST(::write(to_child[1], "g", 1) == 1);
    char answer[2] = {};
    BOOST_TEST(::read(to_parent[0], answer, 2) == 2);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST(answer[0] == 'B');
    BOOST_TEST(answer[1] == 'A');
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}

BOOST_AUTO_TEST_CASE(key_files_are_read_in_nginx_order_and_must_be_80_bytes) {
    temp_dir dir;
    std::string bytes(80, '\0');
    for (int i = 0; i < 80; ++i) bytes[i] = static_cast<char>(i);
    write_file(dir.file("good.key"), bytes);
    write_file(dir.file("short.key"), bytes.substr(0, 48));
    std::string error;
    auto k = read_ticket_key_file(dir.file("good.key"), error);
    BOOST_TEST_REQUIRE(k.has_value(), error);
    BOOST_TEST(k->name[0] == 0);
    BOOST_TEST(k->hmac_secret[0] == 16);
    BOOST_TEST(k->aes_key[0] == 48);
    BOOST_TEST(!read_ticket_key_file(dir.file("short.key"), error));
    BOOST_TEST(error == "\"" + dir.file("short.key") +
                            "\": a ticket key file must hold exactly 80 bytes (openssl rand 80), not 48");
    BOOST_TEST(!read_ticket_key_file(dir.file("none.key"), error));
    BOOST_TEST(error == "\"" + dir.file("none.key") + "\": No such file or directory");
}

// Two contexts built from the same key ring stand for two workers (or two generations): a
// ticket from one resumes on the other, across one rotation, and not after two.
BOOST_AUTO_TEST_CASE(tickets_resume_across_contexts_and_expire_after_two_rotations) {
    temp_dir dir;
    test_ca ca(dir);
    std::string error;
    auto keys = ticket_keys::try_create(error);
    BOOST_TEST_REQUIRE(keys != nullptr, error);
    keys->set({*generate_ticket_key()});
    listener_options o;
    o.certificates = {{.certificate = ca.issue("a", "a.test", {"a.test"}).certificate, .key = dir.file("a.key")}};
    warnings w;
    auto worker1 = server_context::try_create(o, server_options{}, keys.get(), error, w);
    auto worker2 = server_context::try_create(o, server_options{}, keys.get(), error, w);
    BOOST_TEST_REQUIRE((worker1 && worker2), error);

    for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
        BOOST_TEST_CONTEXT("TLS max version " << std::hex << version) {
            auto first = run_handshake(worker1->native(), {.max_version = version});
            BOOST_TEST_REQUIRE(first.ok);
            BOOST_TEST(!first.resumed);
            BOOST_TEST(SSL_SESSION_has_ticket(first.session.get()) == 1);
            BOOST_TEST(SSL_SESSION_is_resumable(first.session.get()) == 1);
            auto again = run_handshake(worker2->native(), {.max_version = version, .resume = first.session.get()});
            BOOST_TEST(again.resumed);
            keys->rotate(*generate_ticket_key());
            auto after_one = run_handshake(worker1->native(), {.max_version = version, .resume = first.session.get()});
            BOOST_TEST(after_one.resumed);
            keys->rotate(*generate_ticket_key());
            auto after_two = run_handshake(worker2->native(), {.max_version = version, .resume = first.session.get()});
            BOOST_TEST(after_two.ok);
            BOOST_TEST(!after_two.resumed);
        }
    }
}

BOOST_AUTO_TEST_CASE(without_keys_no_ticket_is_issued) {
    temp_dir dir;
    test_ca ca(dir);
    listener_options o;
    o.certificates = {{.certificate = ca.issue("a", "a.test", {"a.test"}).certificate, .key = dir.file("a.key")}};
    std::string error;
    warnings w;
    auto ctx = server_context::try_create(o, server_options{}, nullptr, error, w);
    BOOST_TEST_REQUIRE(ctx != nullptr, error);
    auto first = run_handshake(ctx->native(), {});
    BOOST_TEST_REQUIRE(first.ok);
    auto again = run_handshake(ctx->native(), {.resume = first.session.get()});
    BOOST_TEST(!again.resumed);
}

BOOST_AUTO_TEST_SUITE_END()
