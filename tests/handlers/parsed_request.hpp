#pragma once
// Test helper for worker suites: a request parsed by the real parser, with its bytes kept alive
// so the request's views stay valid, as the connection has it when it compresses or logs.

#include <boost/test/unit_test.hpp>
#include <string>

#include "http/parser.hpp"

namespace fastfork::test {

struct parsed_request {
    std::string bytes;
    http::parser parser;
    explicit parsed_request(std::string raw) : bytes(std::move(raw)) {
        auto r = parser.feed(bytes.data(), bytes.size());
        BOOST_REQUIRE(r.state == http::parser::state::done);
    }
    [[nodiscard]] const http::request& get() const { return parser.get(); }
};

}  // namespace fastfork::test
