#include "http/content_coding.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace fastfork::http;

BOOST_AUTO_TEST_SUITE(http_content_coding)

// ---------------------------------------------------------------- content codings

BOOST_AUTO_TEST_CASE(chooses_a_precompressed_coding) {
    struct row {
        std::string accept;
        bool have_br;
        bool have_gzip;
        content_coding expected;
    };
    using C = content_coding;
    const std::vector<row> rows = {
        {"gzip, deflate, br", true, true, C::br},
        {"gzip, deflate, br", false, true, C::gzip},
        {"gzip, deflate, br", true, false, C::br},
        {"gzip, deflate, br", false, false, C::identity},
        {"gzip", true, true, C::gzip},
        {"br", false, true, C::identity},
        {"br;q=0, gzip", true, true, C::gzip},
        {"gzip;q=0", false, true, C::identity},
        {"gzip;q=0.0", false, true, C::identity},
        {"gzip;q=1.0, br;q=0.5", true, true, C::gzip},
        {"gzip; q=0.8 , br ; q=0.9", true, true, C::br},
        {"gzip;q=0.5, br;q=0.5", true, true, C::br},
        {"*", true, true, C::br},
        {"*;q=0", true, true, C::identity},
        {"*, br;q=0", true, true, C::gzip},
        {"gzip;q=0, *", false, true, C::identity},
        {"", true, true, C::identity},
        {"identity", true, true, C::identity},
        {"x-gzip", false, true, C::gzip},
        {"GZIP", false, true, C::gzip},
        {"Br", true, false, C::br},
        {"gzip;q=abc", false, true, C::identity},
        {"gzip;q=2", false, true, C::identity},
        {"br;q=0.001", true, false, C::br},
        {"deflate, compress", true, true, C::identity},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.accept << " br=" << r.have_br << " gzip=" << r.have_gzip) {
            BOOST_TEST(static_cast<int>(choose_coding(r.accept, r.have_br, r.have_gzip)) ==
                       static_cast<int>(r.expected));
        }
    }
    BOOST_TEST(coding_name(C::gzip) == "gzip");
    BOOST_TEST(coding_name(C::br) == "br");
    BOOST_TEST(coding_name(C::identity).empty());
}

BOOST_AUTO_TEST_SUITE_END()
