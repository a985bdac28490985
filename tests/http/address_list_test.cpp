#include "http/address_list.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

using namespace fastfork::http;

namespace {

// A peer's raw address as the worker hands it over: 4 bytes for IPv4, 16 for IPv6.
std::vector<std::uint8_t> peer(const char* text) {
    std::array<std::uint8_t, 16> b{};
    const bool v6 = std::string(text).find(':') != std::string::npos;
    BOOST_REQUIRE(inet_pton(v6 ? AF_INET6 : AF_INET, text, b.data()) == 1);
    return {b.begin(), b.begin() + (v6 ? 16 : 4)};
}

address_list list_of(std::initializer_list<const char*> entries) {
    address_list l;
    for (const char* e : entries) BOOST_REQUIRE_MESSAGE(l.try_add(e).empty(), e);
    return l;
}

bool allows(const address_list& l, const char* text) {
    return l.allows(peer(text));
}

std::string why_not(const char* text) {
    ip_prefix p;
    return try_parse_ip_prefix(text, p);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_address_list)

BOOST_AUTO_TEST_CASE(ipv4_blocks_match_by_prefix) {
    const address_list l = list_of({"10.0.0.0/8", "192.168.1.0/25"});
    BOOST_TEST(allows(l, "10.0.0.0"));
    BOOST_TEST(allows(l, "10.255.255.255"));
    BOOST_TEST(!allows(l, "11.0.0.0"));
    BOOST_TEST(!allows(l, "9.255.255.255"));
    BOOST_TEST(allows(l, "192.168.1.127"));  // /25 ends inside the last byte
    BOOST_TEST(!allows(l, "192.168.1.128"));
    BOOST_TEST(!allows(l, "192.168.0.1"));
}

BOOST_AUTO_TEST_CASE(a_bare_address_is_a_single_host) {
    const address_list v4 = list_of({"10.0.0.5"});
    BOOST_TEST(allows(v4, "10.0.0.5"));
    BOOST_TEST(!allows(v4, "10.0.0.4"));
    BOOST_TEST(!allows(v4, "10.0.0.6"));
    const address_list v4_32 = list_of({"10.0.0.5/32"});
    BOOST_TEST(allows(v4_32, "10.0.0.5"));
    BOOST_TEST(!allows(v4_32, "10.0.0.7"));
    const address_list v6 = list_of({"2001:db8::1"});
    BOOST_TEST(allows(v6, "2001:db8::1"));
    BOOST_TEST(!allows(v6, "2001:db8::2"));
    const address_list v6_128 = list_of({"2001:db8::1/128"});
    BOOST_TEST(allows(v6_128, "2001:db8::1"));
    BOOST_TEST(!allows(v6_128, "2001:db8::1:1"));
}

BOOST_AUTO_TEST_CASE(ipv6_blocks_match_by_prefix) {
    const address_list l = list_of({"fd00::/8", "2001:db8:abcc::/47"});
    BOOST_TEST(allows(l, "fd12:3456::1"));
    BOOST_TEST(!allows(l, "fe80::1"));
    BOOST_TEST(allows(l, "2001:db8:abcc::"));
    BOOST_TEST(allows(l, "2001:db8:abcd:ffff::1"));  // 0xcc and 0xcd differ only in bit 48
    BOOST_TEST(!allows(l, "2001:db8:abce::1"));
    BOOST_TEST(!allows(l, "2001:db8:abcb::1"));
    BOOST_TEST(!allows(l, "2001:db9:abcc::1"));
}

BOOST_AUTO_TEST_CASE(zero_length_prefixes_match_their_whole_family) {
    const address_list v4 = list_of({"0.0.0.0/0"});
    BOOST_TEST(allows(v4, "1.2.3.4"));
    BOOST_TEST(allows(v4, "255.255.255.255"));
    BOOST_TEST(allows(v4, "::ffff:1.2.3.4"));  // an IPv4 client on a dual-stack socket
    BOOST_TEST(!allows(v4, "2001:db8::1"));
    const address_list v6 = list_of({"::/0"});
    BOOST_TEST(allows(v6, "2001:db8::1"));
    BOOST_TEST(allows(v6, "::1"));
    BOOST_TEST(allows(v6, "1.2.3.4"));  // every address has an IPv6 form
}

BOOST_AUTO_TEST_CASE(ipv4_mapped_peers_match_ipv4_blocks_and_back) {
    const address_list v4 = list_of({"10.0.0.0/8"});
    BOOST_TEST(allows(v4, "::ffff:10.0.0.1"));
    BOOST_TEST(!allows(v4, "::ffff:11.0.0.1"));
    BOOST_TEST(!allows(v4, "::10.0.0.1"));  // IPv4-compatible (deprecated) is not IPv4-mapped
    BOOST_TEST(!allows(v4, "64:ff9b::10.0.0.1"));
    const address_list mapped = list_of({"::ffff:10.0.0.0/104"});
    BOOST_TEST(allows(mapped, "10.1.2.3"));
    BOOST_TEST(allows(mapped, "::ffff:10.1.2.3"));
    BOOST_TEST(!allows(mapped, "11.1.2.3"));
}

BOOST_AUTO_TEST_CASE(the_default_is_this_host_only) {
    const address_list l = address_list::loopback();
    BOOST_TEST(allows(l, "127.0.0.1"));
    BOOST_TEST(allows(l, "127.255.0.9"));
    BOOST_TEST(allows(l, "::1"));
    BOOST_TEST(allows(l, "::ffff:127.0.0.1"));
    BOOST_TEST(!allows(l, "10.0.0.5"));
    BOOST_TEST(!allows(l, "0.0.0.0"));
    BOOST_TEST(!allows(l, "::"));
    BOOST_TEST(!allows(l, "::2"));
    BOOST_TEST(!allows(l, "fe80::1"));
    BOOST_TEST(!allows(l, "128.0.0.1"));
    BOOST_TEST(l.entries() == (std::vector<std::string>{"127.0.0.0/8", "::1"}));
}

BOOST_AUTO_TEST_CASE(all_means_everyone_and_empty_means_nobody) {
    const address_list everyone = list_of({"all"});
    BOOST_TEST(everyone.allows_everyone());
    BOOST_TEST(allows(everyone, "203.0.113.9"));
    BOOST_TEST(allows(everyone, "2001:db8::9"));
    const address_list nobody;
    BOOST_TEST(nobody.empty());
    BOOST_TEST(!allows(nobody, "127.0.0.1"));
    BOOST_TEST(!allows(nobody, "::1"));
}

BOOST_AUTO_TEST_CASE(a_peer_without_an_address_is_not_on_a_list) {
    const std::uint8_t none[1] = {127};
    BOOST_TEST(!address_list::loopback().allows({}));
    BOOST_TEST(!address_list::loopback().allows(std::span<const std::uint8_t>(none, 1)));
    BOOST_TEST(list_of({"all"}).allows({}));
}

BOOST_AUTO_TEST_CASE(bad_entries_say_why) {
    BOOST_TEST(why_not("10.0.0.256").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not("10.0.0").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not("010.0.0.1").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not("localhost").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not("").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not(" 10.0.0.1").find("expected an IPv4 address") == 0);
    BOOST_TEST(why_not("fe80::1%eth0").find("expected an IPv6 address") == 0);
    BOOST_TEST(why_not("[::1]").find("expected an IPv6 address") == 0);
    BOOST_TEST(why_not("1:2:3:4:5:6:7:8:9").find("expected an IPv6 address") == 0);
    BOOST_TEST(why_not("10.0.0.0/33") == "prefix length 33 is longer than 32 bits");
    BOOST_TEST(why_not("::/129") == "prefix length 129 is longer than 128 bits");
    BOOST_TEST(why_not("10.0.0.0/") == "expected a prefix length after \"/\" (0 to 32)");
    BOOST_TEST(why_not("10.0.0.0/+8") == "expected a prefix length after \"/\" (0 to 32)");
    BOOST_TEST(why_not("10.0.0.0/8/8") == "expected a prefix length after \"/\" (0 to 32)");
    BOOST_TEST(why_not("::/1000") == "expected a prefix length after \"/\" (0 to 128)");
    BOOST_TEST(why_not("10.0.0.5/8") ==
               "10.0.0.5/8 has bits set after the prefix; the block is 10.0.0.0/8, a single address has no \"/\"");
    BOOST_TEST(why_not("fd00::1/8").find("the block is fd00::/8") != std::string::npos);
    BOOST_TEST(why_not("10.0.0.128/25").empty());
    BOOST_TEST(why_not("10.0.0.129/25").find("the block is 10.0.0.128/25") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_entry_leaves_the_list_unchanged) {
    address_list l = address_list::loopback();
    BOOST_TEST(!l.try_add("10.0.0.0/99").empty());
    BOOST_TEST(!l.try_add("All").empty());  // keywords are exact
    BOOST_TEST(l.entries().size() == 2u);
    BOOST_TEST(!allows(l, "10.0.0.1"));
    BOOST_TEST(!l.allows_everyone());
}

BOOST_AUTO_TEST_SUITE_END()
