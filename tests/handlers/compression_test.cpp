#include "handlers/compression.hpp"

#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <random>
#include <string>

#include "http/parser.hpp"
#include "tests/handlers/header_lines.hpp"
#include "tests/handlers/parsed_request.hpp"

using namespace fastfork;
using handlers::compressor;

namespace {

// Inflates one gzip member; fails the test on any zlib error.
std::string gunzip(std::string_view gz) {
    z_stream zs{};
    BOOST_REQUIRE_EQUAL(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    zs.avail_in = static_cast<uInt>(gz.size());
    std::string out;
    char buf[16384];
    int rc;
    do {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        BOOST_REQUIRE_MESSAGE(rc == Z_OK || rc == Z_STREAM_END, "inflate: " << rc);
        out.append(buf, sizeof buf - zs.avail_out);
    } while (rc != Z_STREAM_END);
    BOOST_CHECK_EQUAL(zs.avail_in, 0u);  // one member, nothing after it
    inflateEnd(&zs);
    return out;
}

std::string text_body(std::size_t n, char seed = 'a') {
    std::string s;
    while (s.size() < n) s += std::string("{\"message\":\"Hello, World!\",\"n\":") + seed + "},";
    s.resize(n);
    return s;
}

const std::string gzip_request = "GET /x HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n";
const std::string plain_request = "GET /x HTTP/1.1\r\nHost: x\r\n\r\n";

bool has_header(const http::response& r, std::string_view name, std::string_view value) {
    return test::header_value(r, name) == value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_compression)

BOOST_AUTO_TEST_CASE(accept_encoding_rules) {
    struct {
        const char* value;
        bool gzip;
    } cases[] = {
        {"", false},
        {"gzip", true},
        {"GZIP", true},
        {"x-gzip", true},
        {"deflate, gzip;q=0.5", true},
        {"gzip;q=0", false},
        {"gzip; q=0.000", false},
        {"gzip;Q=0.001", true},
        {"gzip ; q = 1.0", true},
        {"br, deflate", false},
        {"*", true},
        {"*;q=0", false},
        {"*, gzip;q=0", false},  // gzip listed: its own weight decides
        {"gzip;q=0, *", false},
        {"identity", false},
        {"gzip;q=2", false},  // malformed weight: the element is ignored
        {"gzip;q=abc, *;q=0.1", true},
        {" ,gzip,", true},
    };
    for (const auto& c : cases)
        BOOST_CHECK_MESSAGE(compressor::accepts_gzip(c.value) == c.gzip, "\"" << c.value << "\" → " << !c.gzip);
}

BOOST_AUTO_TEST_CASE(compressible_types) {
    for (const char* t : {"text/plain", "text/html; charset=utf-8", "TEXT/CSS", "application/json",
                          "application/json;charset=utf-8", "application/javascript", "application/xml",
                          "image/svg+xml", "application/ld+json", "application/atom+xml", "application/wasm"})
        BOOST_CHECK_MESSAGE(compressor::is_compressible_type(t), t);
    for (const char* t : {"", "image/png", "image/jpeg", "application/octet-stream", "application/gzip", "video/mp4",
                          "application/zip", "font/woff2", "textual/plain"})
        BOOST_CHECK_MESSAGE(!compressor::is_compressible_type(t), t);
}

BOOST_AUTO_TEST_CASE(round_trips_through_inflate_and_reuses_the_stream) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(gzip_request);
    for (int i = 0; i < 3; ++i) {  // deflateReset between responses: each one a whole member
        const std::string body = text_body(5000 + 3000 * i, static_cast<char>('a' + i));
        http::response r;
        r.set_content_type("application/json");
        r.set_body(body);
        BOOST_REQUIRE(c.maybe_compress(req.get(), r));
        BOOST_CHECK_LT(r.body().size(), body.size());
        BOOST_CHECK_EQUAL(gunzip(r.body()), body);
        BOOST_CHECK(has_header(r, "Content-Encoding", "gzip"));
        BOOST_CHECK(has_header(r, "Vary", "Accept-Encoding"));
    }
}

BOOST_AUTO_TEST_CASE(compresses_a_borrowed_body) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(gzip_request);
    static const std::string body = text_body(4096);
    http::response r;
    r.set_content_type("text/plain");
    r.set_body_static(body);
    BOOST_REQUIRE(c.maybe_compress(req.get(), r));
    BOOST_CHECK_EQUAL(gunzip(r.body()), body);
}

BOOST_AUTO_TEST_CASE(eligible_but_not_accepted_gets_vary_only) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(plain_request);
    const std::string body = text_body(4096);
    http::response r;
    r.set_content_type("application/json");
    r.set_body(body);
    BOOST_CHECK(!c.maybe_compress(req.get(), r));
    BOOST_CHECK_EQUAL(r.body(), body);
    BOOST_CHECK(has_header(r, "Vary", "Accept-Encoding"));
    BOOST_CHECK(!test::header_value(r, "Content-Encoding"));
}

BOOST_AUTO_TEST_CASE(leaves_ineligible_responses_alone) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(gzip_request);
    const std::string body = text_body(4096);
    auto untouched = [&](auto&& setup, const char* what) {
        http::response r;
        r.set_content_type("text/plain");
        r.set_body(body);
        setup(r);
        const std::string before_headers(r.extra_headers());
        const std::string before_body(r.body());
        BOOST_CHECK_MESSAGE(!c.maybe_compress(req.get(), r), what);
        BOOST_CHECK_MESSAGE(r.body() == before_body, what);
        BOOST_CHECK_MESSAGE(r.extra_headers() == before_headers, what);
    };
    untouched([](http::response& r) { r.set_status(404); }, "status 404");
    untouched([](http::response& r) { r.set_status(206); }, "status 206");
    untouched([](http::response& r) { r.set_body("short"); }, "below gzip_min_length");
    untouched([](http::response& r) { r.set_content_type("image/png"); }, "image/png");
    untouched([](http::response& r) { r.set_content_type({}); }, "no content type");
    untouched([](http::response& r) { r.add_header("Content-Encoding", "br"); }, "already encoded");
    untouched([](http::response& r) { r.add_header("ETag", "\"abc\""); }, "strong validator");
    untouched([](http::response& r) { r.add_header("Cache-Control", "public, No-Transform"); }, "no-transform");
    untouched([](http::response& r) { r.add_header("Content-Range", "bytes 0-9/100"); }, "a range");
    untouched(
        [](http::response& r) {
            r.add_header("Last-Modified", "Thu, 03 Dec 2026 12:00:00 GMT");
            r.add_header("Cache-Control", "max-age=60");
            r.add_header("etag", "\"v1\"");
        },
        "a validator after other lines, any case");

    handlers::options off;
    off.gzip = false;
    compressor disabled(off);
    BOOST_CHECK(!disabled.is_enabled());
    http::response r;
    r.set_content_type("text/plain");
    r.set_body(body);
    BOOST_CHECK(!disabled.maybe_compress(req.get(), r));
    BOOST_CHECK(r.extra_headers().empty());
}

BOOST_AUTO_TEST_CASE(plaintext_is_never_compressed) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(gzip_request);
    http::response r;
    r.set_content_type("text/plain");
    r.set_body_static("Hello, World!");
    BOOST_CHECK(!c.maybe_compress(req.get(), r));
    BOOST_CHECK(r.extra_headers().empty());  // not even Vary: the benchmark response is unchanged
}

BOOST_AUTO_TEST_CASE(min_length_and_level_are_honoured) {
    handlers::options o;
    o.gzip_min_length = 0;
    o.gzip_level = 9;
    compressor c(o);
    test::parsed_request req(gzip_request);
    const std::string body = text_body(300);
    http::response r;
    r.set_content_type("text/plain");
    r.set_body(body);
    BOOST_CHECK(c.maybe_compress(req.get(), r));
    BOOST_CHECK_EQUAL(gunzip(r.body()), body);
}

BOOST_AUTO_TEST_CASE(incompressible_body_is_sent_as_is) {
    handlers::options o;
    compressor c(o);
    test::parsed_request req(gzip_request);
    std::mt19937 rng(42);
    std::string body(8192, '\0');
    for (char& ch : body) ch = static_cast<char>(rng());
    http::response r;
    r.set_content_type("text/plain");  // claims text, is noise
    r.set_body(body);
    BOOST_CHECK(!c.maybe_compress(req.get(), r));
    BOOST_CHECK_EQUAL(r.body(), body);
    std::string_view out;
    BOOST_CHECK(!c.try_gzip(body, out));
    BOOST_CHECK(out.empty());
}

BOOST_AUTO_TEST_SUITE_END()
