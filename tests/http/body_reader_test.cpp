#include "http/body_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace fastfork::http;
using namespace std::literals;

namespace {

constexpr std::uint64_t no_limit = std::numeric_limits<std::uint64_t>::max();

request chunked_request() {
    request r;
    r.framing = body_framing::chunked;
    return r;
}

request length_request(std::uint64_t n) {
    request r;
    r.framing = body_framing::content_length;
    r.content_length = n;
    return r;
}

// What a whole decode produced. `consumed` is the input position where decoding stopped (the end
// of the body, or the offending byte), which must not depend on how the input was split.
struct outcome {
    body_reader::state state = body_reader::state::need_more;
    error err = error::none;
    std::string body;
    std::size_t consumed = 0;

    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    return os << "{state=" << static_cast<int>(o.state) << " err=" << name_of(o.err) << " consumed=" << o.consumed
              << " body=" << o.body.size() << " bytes}";
}

// Feeds `raw` as the worker does: the bytes available grow to each cut in turn, and the reader is
// given what it has not consumed yet. In place, output goes to the front of the same buffer.
outcome decode(
    std::string_view raw, const request& req, std::uint64_t max_body, std::vector<std::size_t> cuts, bool in_place) {
    std::string buf(raw);
    std::string separate(raw.size() + 1, '\0');
    body_reader reader;
    reader.start(req, max_body);
    std::size_t pos = 0;
    std::size_t produced = 0;
    cuts.push_back(raw.size());
    for (std::size_t avail : cuts) {
        if (avail < pos) continue;
        char* out = in_place ? buf.data() + produced : separate.data() + produced;
        auto r = reader.feed(buf.data() + pos, avail - pos, out);
        BOOST_REQUIRE(r.consumed <= avail - pos);
        BOOST_REQUIRE(r.produced <= r.consumed);
        // Everything given is used unless the body ended or failed: nothing is held back.
        if (r.state == body_reader::state::need_more) BOOST_REQUIRE(r.consumed == avail - pos);
        pos += r.consumed;
        produced += r.produced;
        BOOST_REQUIRE(reader.total() == produced);
        if (r.state != body_reader::state::need_more) {
            const std::string& out_buf = in_place ? buf : separate;
            if (r.state == body_reader::state::error) return {r.state, r.err, {}, pos};
            BOOST_REQUIRE(reader.is_done());
            return {r.state, r.err, out_buf.substr(0, produced), pos};
        }
    }
    return {body_reader::state::need_more, error::none, {}, pos};
}

outcome decode_once(std::string_view raw, const request& req, std::uint64_t max_body = no_limit) {
    return decode(raw, req, max_body, {}, true);
}

// The decode must be the same for every split, one byte at a time, in place and not.
void grind(std::string_view raw, const request& req, std::uint64_t max_body = no_limit) {
    const outcome expected = decode(raw, req, max_body, {}, false);
    BOOST_REQUIRE_EQUAL(decode(raw, req, max_body, {}, true), expected);
    for (std::size_t i = 0; i <= raw.size(); ++i) {
        BOOST_TEST_CONTEXT("split at " << i) {
            BOOST_REQUIRE_EQUAL(decode(raw, req, max_body, {i}, true), expected);
            BOOST_REQUIRE_EQUAL(decode(raw, req, max_body, {i}, false), expected);
        }
    }
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 0; i <= raw.size(); ++i) every_byte.push_back(i);
    BOOST_TEST_CONTEXT("one byte at a time") {
        BOOST_REQUIRE_EQUAL(decode(raw, req, max_body, every_byte, true), expected);
        BOOST_REQUIRE_EQUAL(decode(raw, req, max_body, every_byte, false), expected);
    }
}

struct chunked_accept {
    const char* name;
    std::string_view raw;
    std::string_view body;
};

// RFC 9112 §7.1: chunked-body = *chunk last-chunk trailer-section CRLF.
const std::vector<chunked_accept>& chunked_accepts() {
    static const std::vector<chunked_accept> cases = {
        {"two_chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
        {"no_data_chunks", "0\r\n\r\n", ""},
        {"many_zeros_last_chunk", "000\r\n\r\n", ""},
        {"upper_and_lower_hex", "A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"},
        {"leading_zeros", "0005\r\nhello\r\n0\r\n\r\n", "hello"},
        {"sixteen_digit_size_with_leading_zeros", "00000000000000000000000000000003\r\nabc\r\n0\r\n\r\n", "abc"},
        // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
        {"extension_without_value", "5;ext\r\nhello\r\n0\r\n\r\n", "hello"},
        {"extensions_with_values", "5;a=b;c=\"d e\"\r\nhello\r\n0;last=1\r\n\r\n", "hello"},
        {"extension_with_bws", "5 ; a = b ;\tc\t=\t\"x\"\r\nhello\r\n0\r\n\r\n", "hello"},
        {"extension_quoted_pair", "5;a=\"q\\\"x\\\\\"\r\nhello\r\n0\r\n\r\n", "hello"},
        {"extension_quoted_obs_text", "5;a=\"caf\xc3\xa9\"\r\nhello\r\n0\r\n\r\n", "hello"},
        // RFC 9112 §7.1.2: trailer fields are parsed and discarded.
        {"trailers", "5\r\nhello\r\n0\r\nExpires: never\r\nX-Checksum:  abc \t\r\nX-Empty:\r\n\r\n", "hello"},
        {"extensions_and_trailers",
         "3;x=1\r\nabc\r\n4 ;y=\"z\"\r\ndefg\r\n0;end\r\nTrailer-A: 1\r\nTrailer-B: two words\r\n\r\n", "abcdefg"},
        {"crlf_inside_chunk_data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"},
        {"binary_chunk_data", "3\r\n\0\n\r\r\n0\r\n\r\n"sv, "\0\n\r"sv},
    };
    return cases;
}

struct chunked_reject {
    const char* name;
    std::string_view raw;
    error err;
    std::uint64_t max_body = no_limit;
};

const std::vector<chunked_reject>& chunked_rejects() {
    static const std::string long_extension = "5;" + std::string(5000, 'a') + "\r\nhello\r\n0\r\n\r\n";
    static const std::string long_size = std::string(5000, '0') + "5\r\nhello\r\n0\r\n\r\n";
    static const std::string long_trailers = [] {
        std::string s = "0\r\n";
        for (int i = 0; i < 600; ++i) s += "X-Trailer-" + std::to_string(i) + ": some value here\r\n";
        return s + "\r\n";
    }();
    static const std::vector<chunked_reject> cases = {
        // RFC 9112 §7.1: chunk-size = 1*HEXDIG.
        {"empty_size", "\r\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"non_hex_size", "x\r\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"negative_size", "-5\r\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"leading_space_size", " 5\r\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"hex_prefix_size", "0x5\r\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"bare_lf_after_size", "5\nhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"cr_without_lf_after_size", "5\rhello\r\n0\r\n\r\n", error::bad_chunk_size},
        {"size_line_too_long", long_size, error::bad_chunk_size},
        {"size_overflow", "10000000000000000\r\n", error::chunk_size_overflow},
        {"size_overflow_after_zeros", "0010000000000000000\r\n", error::chunk_size_overflow},
        // RFC 9112 §7.1.1: malformed extensions.
        {"extension_empty_name", "5;\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_empty_value", "5;a=\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_bad_name_char", "5;a@b\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_space_in_name", "5;a b\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_unterminated_quote", "5;a=\"abc\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_ctl_in_quote", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_bare_lf", "5;a=b\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"trailing_whitespace_after_size", "5 \r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"garbage_after_size", "5 5\r\nhello\r\n0\r\n\r\n", error::bad_chunk_extension},
        {"extension_line_too_long", long_extension, error::bad_chunk_extension},
        // RFC 9112 §7.1: chunk-data is followed by CRLF.
        {"data_longer_than_size", "5\r\nhelloX\r\n0\r\n\r\n", error::bad_chunk_terminator},
        {"bare_lf_after_data", "5\r\nhello\n0\r\n\r\n", error::bad_chunk_terminator},
        {"cr_without_lf_after_data", "5\r\nhello\rX0\r\n\r\n", error::bad_chunk_terminator},
        // RFC 9112 §7.1.2 / §5: trailer fields are field lines.
        {"trailer_space_in_name", "0\r\nBad Name: x\r\n\r\n", error::bad_trailer},
        {"trailer_space_before_colon", "0\r\nX : x\r\n\r\n", error::bad_trailer},
        {"trailer_obs_fold", "0\r\nX: a\r\n folded\r\n\r\n", error::bad_trailer},
        {"trailer_without_colon", "0\r\nNoColon\r\n\r\n", error::bad_trailer},
        {"trailer_ctl_in_value", "0\r\nX: a\x01\r\n\r\n", error::bad_trailer},
        {"trailer_nul_in_value", "0\r\nX: a\0\r\n\r\n"sv, error::bad_trailer},
        {"trailer_bare_lf", "0\r\nX: a\n\r\n", error::bad_trailer},
        {"final_cr_without_lf", "0\r\n\rX", error::bad_trailer},
        {"trailer_section_too_large", long_trailers, error::bad_trailer},
        // RFC 9110 §15.5.14: over the configured maximum.
        {"chunk_over_max_body", "a\r\n0123456789\r\n0\r\n\r\n", error::body_too_large, 5},
        {"chunks_sum_over_max_body", "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", error::body_too_large, 5},
        {"huge_chunk_over_max_body", "FFFFFFFFFFFFFFFF\r\n", error::body_too_large, 1 << 20},
    };
    return cases;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_body_reader)

BOOST_AUTO_TEST_CASE(no_body_is_done_at_once) {
    body_reader reader;
    request req;
    reader.start(req, 100);
    BOOST_TEST(reader.is_done());
    std::string next = "GET / HTTP/1.1\r\n";
    auto r = reader.feed(next.data(), next.size(), next.data());
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.consumed == 0u);
    BOOST_TEST(r.produced == 0u);
}

BOOST_AUTO_TEST_CASE(content_length_zero_is_done_at_once) {
    body_reader reader;
    reader.start(length_request(0), 100);
    BOOST_TEST(reader.is_done());
    BOOST_TEST(reader.remaining() == 0u);
    auto r = reader.feed("x", 1, nullptr);
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.consumed == 0u);
}

BOOST_AUTO_TEST_CASE(content_length_body_at_every_split) {
    const std::string body = "hello, world";
    const auto req = length_request(body.size());
    auto o = decode_once(body, req);
    BOOST_TEST((o.state == body_reader::state::done));
    BOOST_TEST(o.body == body);
    BOOST_TEST(o.consumed == body.size());
    grind(body, req);
}

BOOST_AUTO_TEST_CASE(content_length_body_does_not_consume_the_next_request) {
    const std::string body = "0123456789";
    const std::string next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    const auto req = length_request(body.size());
    auto o = decode_once(body + next, req);
    BOOST_TEST((o.state == body_reader::state::done));
    BOOST_TEST(o.consumed == body.size());
    BOOST_TEST(o.body == body);
    grind(body + next, req);
}

BOOST_AUTO_TEST_CASE(content_length_tracks_remaining_and_total) {
    body_reader reader;
    reader.start(length_request(10), 100);
    BOOST_TEST(reader.remaining() == 10u);
    char out[16];
    auto r = reader.feed("abcd", 4, out);
    BOOST_TEST((r.state == body_reader::state::need_more));
    BOOST_TEST(r.consumed == 4u);
    BOOST_TEST(r.produced == 4u);
    BOOST_TEST(reader.remaining() == 6u);
    BOOST_TEST(reader.total() == 4u);
    r = reader.feed("efghijKLM", 9, out + 4);
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.consumed == 6u);
    BOOST_TEST(std::string_view(out, 10) == "abcdefghij");
    BOOST_TEST(reader.remaining() == 0u);
    BOOST_TEST(reader.total() == 10u);
    BOOST_TEST(reader.is_done());
}

BOOST_AUTO_TEST_CASE(content_length_over_max_body_fails_on_first_feed) {
    body_reader reader;
    reader.start(length_request(101), 100);
    BOOST_TEST(!reader.is_done());
    auto r = reader.feed(nullptr, 0, nullptr);
    BOOST_TEST((r.state == body_reader::state::error));
    BOOST_TEST((r.err == error::body_too_large));
    BOOST_TEST(status_of(r.err) == 413u);
    BOOST_TEST(r.consumed == 0u);
    std::string data(200, 'a');
    r = reader.feed(data.data(), data.size(), data.data());
    BOOST_TEST((r.err == error::body_too_large));
    BOOST_TEST(r.consumed == 0u);
    // At the limit is fine.
    reader.start(length_request(100), 100);
    r = reader.feed(data.data(), data.size(), data.data());
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.consumed == 100u);
}

BOOST_AUTO_TEST_CASE(decodes_valid_chunked_bodies) {
    for (const auto& c : chunked_accepts()) {
        BOOST_TEST_CONTEXT(c.name) {
            auto o = decode_once(c.raw, chunked_request());
            BOOST_TEST((o.state == body_reader::state::done));
            BOOST_TEST(name_of(o.err) == "none");
            BOOST_TEST(o.body == c.body);
            BOOST_TEST(o.consumed == c.raw.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(chunked_bodies_decode_the_same_at_every_split) {
    for (const auto& c : chunked_accepts()) {
        BOOST_TEST_CONTEXT(c.name) {
            grind(c.raw, chunked_request());
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_invalid_chunked_bodies) {
    for (const auto& c : chunked_rejects()) {
        BOOST_TEST_CONTEXT(c.name) {
            auto o = decode_once(c.raw, chunked_request(), c.max_body);
            BOOST_TEST((o.state == body_reader::state::error));
            BOOST_TEST(name_of(o.err) == name_of(c.err));
        }
    }
}

BOOST_AUTO_TEST_CASE(invalid_chunked_bodies_fail_the_same_at_every_split) {
    for (const auto& c : chunked_rejects()) {
        if (c.raw.size() > 2000) continue;  // the long ones are covered by the single feed above
        BOOST_TEST_CONTEXT(c.name) {
            grind(c.raw, chunked_request(), c.max_body);
        }
    }
}

BOOST_AUTO_TEST_CASE(chunked_body_does_not_consume_the_next_request) {
    const std::string body = "5;e=1\r\nhello\r\n0\r\nX-T: v\r\n\r\n";
    const std::string next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    auto o = decode_once(body + next, chunked_request());
    BOOST_TEST((o.state == body_reader::state::done));
    BOOST_TEST(o.consumed == body.size());
    BOOST_TEST(o.body == "hello");
    grind(body + next, chunked_request());
}

BOOST_AUTO_TEST_CASE(chunked_at_max_body_is_accepted) {
    auto o = decode_once("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", chunked_request(), 5);
    BOOST_TEST((o.state == body_reader::state::done));
    BOOST_TEST(o.body == "abcde");
}

BOOST_AUTO_TEST_CASE(errors_are_sticky_until_start) {
    body_reader reader;
    reader.start(chunked_request(), no_limit);
    std::string bad = "zz\r\n";
    auto r = reader.feed(bad.data(), bad.size(), bad.data());
    BOOST_TEST((r.err == error::bad_chunk_size));
    BOOST_TEST(r.consumed == 0u);
    std::string good = "0\r\n\r\n";
    r = reader.feed(good.data(), good.size(), good.data());
    BOOST_TEST((r.err == error::bad_chunk_size));
    BOOST_TEST(r.consumed == 0u);
    reader.start(chunked_request(), no_limit);
    r = reader.feed(good.data(), good.size(), good.data());
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.consumed == good.size());
}

BOOST_AUTO_TEST_CASE(empty_feed_changes_nothing) {
    body_reader reader;
    reader.start(chunked_request(), no_limit);
    auto r = reader.feed(nullptr, 0, nullptr);
    BOOST_TEST((r.state == body_reader::state::need_more));
    BOOST_TEST(r.consumed == 0u);
    BOOST_TEST(r.produced == 0u);
}

BOOST_AUTO_TEST_CASE(in_place_decoding_matches_a_separate_buffer_for_random_bodies) {
    std::mt19937 rng(20240611);
    for (int round = 0; round < 200; ++round) {
        std::string body;
        std::string wire;
        int chunks = static_cast<int>(rng() % 6);
        for (int c = 0; c < chunks; ++c) {
            std::size_t n = 1 + rng() % 40;
            std::string data;
            for (std::size_t i = 0; i < n; ++i) data += static_cast<char>(rng() % 256);
            char size[32];
            std::snprintf(size, sizeof size, rng() % 2 ? "%zx" : "%zX", n);
            wire += size;
            if (rng() % 3 == 0) wire += ";k=v";
            if (rng() % 4 == 0) wire += ";q=\"a;b\"";
            wire += "\r\n" + data + "\r\n";
            body += data;
        }
        wire += "0\r\n";
        if (rng() % 2) wire += "X-Sum: " + std::to_string(body.size()) + "\r\n";
        wire += "\r\n";
        BOOST_TEST_CONTEXT("round " << round) {
            auto in_place = decode(wire, chunked_request(), no_limit, {}, true);
            BOOST_REQUIRE((in_place.state == body_reader::state::done));
            BOOST_REQUIRE(in_place.body == body);
            BOOST_REQUIRE_EQUAL(in_place, decode(wire, chunked_request(), no_limit, {}, false));
            std::vector<std::size_t> cuts;
            for (std::size_t at = rng() % 7; at < wire.size(); at += 1 + rng() % 13) cuts.push_back(at);
            BOOST_REQUIRE_EQUAL(decode(wire, chunked_request(), no_limit, cuts, true), in_place);
        }
    }
}

BOOST_AUTO_TEST_CASE(in_place_output_compacts_towards_the_front) {
    std::string wire = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\nNEXT";
    body_reader reader;
    reader.start(chunked_request(), no_limit);
    auto r = reader.feed(wire.data(), wire.size(), wire.data());
    BOOST_TEST((r.state == body_reader::state::done));
    BOOST_TEST(r.produced == 6u);
    BOOST_TEST(r.consumed == wire.size() - 4);
    BOOST_TEST(wire.substr(0, 6) == "abcdef");
    BOOST_TEST(wire.substr(wire.size() - 4) == "NEXT");  // bytes after the body are untouched
}

BOOST_AUTO_TEST_SUITE_END()
