#include "http/field.hpp"

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

using namespace fastfork::http;

namespace {

constexpr auto last_field = field::x_request_id;

std::string with_case(std::string_view s, int (*f)(int)) {
    std::string r(s);
    for (auto& c : r) c = static_cast<char>(f(static_cast<unsigned char>(c)));
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_field)

BOOST_AUTO_TEST_CASE(every_field_has_a_canonical_name_that_looks_it_up) {
    for (int i = 1; i <= static_cast<int>(last_field); ++i) {
        auto f = static_cast<field>(i);
        std::string_view name = field_name(f);
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(!name.empty());
            BOOST_TEST((lookup_field(name) == f));
            BOOST_TEST((lookup_field(with_case(name, ::tolower)) == f));
            BOOST_TEST((lookup_field(with_case(name, ::toupper)) == f));
        }
    }
}

BOOST_AUTO_TEST_CASE(registered_spellings_follow_the_iana_registry) {
    BOOST_TEST(field_name(field::content_length) == "Content-Length");
    BOOST_TEST(field_name(field::etag) == "ETag");
    BOOST_TEST(field_name(field::te) == "TE");
    BOOST_TEST(field_name(static_cast<field>(200)) == "");  // out of range
}

BOOST_AUTO_TEST_CASE(lookup_is_case_insensitive_only_for_letters) {
    BOOST_TEST((lookup_field("cOnTeNt-TyPe") == field::content_type));
    BOOST_TEST((lookup_field("HOST") == field::host));
    // 0x0D and '-' (0x2D) differ only in bit 0x20: a letter-only case fold must not equate them.
    BOOST_TEST((lookup_field("Content\rLength") == field::unknown));
    BOOST_TEST((lookup_field("X\rRequest\rId") == field::unknown));
    BOOST_TEST((lookup_field("Content_Length") == field::unknown));
    BOOST_TEST((lookup_field("Content Length") == field::unknown));
    // '@' (0x40) and '`' (0x60) are not letters either.
    BOOST_TEST((lookup_field("@ccept") == field::unknown));
}

BOOST_AUTO_TEST_CASE(unknown_names_are_unknown) {
    for (std::string_view name : {"", "H", "Hos", "Hosts", "X-Custom", "Content-Lengths", "If-Unmodified-Sincee",
                                  "Accept-Encodinh", "keep_alive", "Set-Cookie2", "Transfer-Encoding-X"}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST((lookup_field(name) == field::unknown));
        }
    }
    BOOST_TEST(field_name(field::unknown) == "");
}

BOOST_AUTO_TEST_CASE(lookup_reads_only_the_given_bytes) {
    // Exactly sized heap copies: ASan flags any read past the end of the name.
    for (int i = 1; i <= static_cast<int>(last_field); ++i) {
        std::string_view name = field_name(static_cast<field>(i));
        for (std::size_t len = 1; len <= name.size(); ++len) {
            auto copy = std::make_unique<char[]>(len);
            std::memcpy(copy.get(), name.data(), len);
            field f = lookup_field(std::string_view(copy.get(), len));
            BOOST_TEST((len == name.size() ? f == static_cast<field>(i) : f != static_cast<field>(i)));
        }
    }
}

BOOST_AUTO_TEST_CASE(iequals_compares_ascii_case_insensitively) {
    BOOST_TEST(iequals("chunked", "CHUNKED"));
    BOOST_TEST(iequals("Keep-Alive", "keep-alive"));
    BOOST_TEST(iequals("", ""));
    BOOST_TEST(!iequals("close", "closed"));
    BOOST_TEST(!iequals("a-b", "a_b"));
    BOOST_TEST(!iequals("\xe9", "\xc9"));  // only ASCII letters fold
}

BOOST_AUTO_TEST_CASE(canonicalizes_names_in_place) {
    auto canon = [](std::string s) {
        canonicalize_field_name(s.data(), s.size());
        return s;
    };
    BOOST_TEST(canon("content-TYPE") == "Content-Type");
    BOOST_TEST(canon("HOST") == "Host");
    BOOST_TEST(canon("x-forwarded-for") == "X-Forwarded-For");
    BOOST_TEST(canon("etag") == "Etag");
    BOOST_TEST(canon("a--b") == "A--B");
    BOOST_TEST(canon("-a") == "-A");
    BOOST_TEST(canon("x_y-1z") == "X_y-1z");
    BOOST_TEST(canon("") == "");
}

BOOST_AUTO_TEST_SUITE_END()
