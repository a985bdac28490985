#include "websocket/sha1.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace fastfork::websocket;

namespace {

std::string hex(const sha1_digest& d) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : d) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

std::string b64(std::string_view in) {
    std::string out(base64_encoded_size(in.size()), '?');
    out.resize(base64_encode(reinterpret_cast<const std::uint8_t*>(in.data()), in.size(), out.data()));
    return out;
}

std::string unb64(std::string_view in, bool& ok) {
    std::uint8_t buf[64];
    auto n = base64_decode(in, buf, sizeof buf);
    ok = n >= 0;
    return ok ? std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_sha1)

BOOST_AUTO_TEST_CASE(fips_180_vectors) {
    BOOST_TEST(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    BOOST_TEST(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    BOOST_TEST(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
               "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    BOOST_TEST(hex(sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

BOOST_AUTO_TEST_CASE(two_parts_hash_as_their_concatenation) {
    std::string s = "The quick brown fox jumps over the lazy dog, and then some more to pass 64 bytes";
    for (std::size_t k = 0; k <= s.size(); ++k)
        BOOST_TEST(hex(sha1(std::string_view(s).substr(0, k), std::string_view(s).substr(k))) == hex(sha1(s)));
}

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors) {
    BOOST_TEST(b64("") == "");
    BOOST_TEST(b64("f") == "Zg==");
    BOOST_TEST(b64("fo") == "Zm8=");
    BOOST_TEST(b64("foo") == "Zm9v");
    BOOST_TEST(b64("foob") == "Zm9vYg==");
    BOOST_TEST(b64("fooba") == "Zm9vYmE=");
    BOOST_TEST(b64("foobar") == "Zm9vYmFy");
    bool ok = false;
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        BOOST_TEST(unb64(b64(s), ok) == s);
        BOOST_TEST(ok);
    }
}

BOOST_AUTO_TEST_CASE(base64_decode_rejects_non_canonical_input) {
    bool ok = true;
    for (std::string bad : {"Zg=", "Zh==", "Zm9=", "Z===", "Zm9v\n", "Zm 9", "Zm9v====", "=Zm9", "Zm=v"}) {
        (void)unb64(bad, ok);
        BOOST_TEST(!ok, bad);
    }
}

BOOST_AUTO_TEST_SUITE_END()
