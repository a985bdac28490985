#pragma once
// Shared by the conditional-request and range tests: a fixed Last-Modified and ETags made the
// way the file server makes them.

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "http/conditional.hpp"
#include "http/date.hpp"

namespace fastfork::test {

inline constexpr std::string_view lm_text = "Sun, 06 Nov 1994 08:49:37 GMT";

inline std::time_t lm() {
    std::time_t t = 0;
    BOOST_REQUIRE(http::parse_http_date(lm_text, t));
    return t;
}

inline std::string etag_of(std::int64_t mtime, std::uint64_t size, std::string_view suffix = {}) {
    char buf[http::max_etag_size];
    return std::string(http::format_etag(mtime, size, suffix, buf));
}

}  // namespace fastfork::test
