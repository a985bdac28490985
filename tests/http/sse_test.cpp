#include "http/sse.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "http/stream.hpp"

using namespace fastfork;

namespace {

std::string event(std::string_view data, std::string_view name = {}, std::string_view id = {}) {
    http::byte_buffer b;
    http::format_sse_event(b, data, name, id);
    return std::string(b.view());
}

// Records what the SSE writer sends through the ctx, as the worker's sink would receive it.
struct recording_sink final : http::response_sink {
    std::vector<std::string> writes;
    int flushes = 0;
    bool ending = false;
    std::error_code write(std::string_view d) noexcept override {
        writes.emplace_back(d);
        return {};
    }
    std::error_code flush() noexcept override {
        ++flushes;
        return {};
    }
    void set_content_length(std::uint64_t) noexcept override {}
    bool is_ending() const noexcept override { return ending; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_sse)

BOOST_AUTO_TEST_CASE(one_line_event_with_name_and_id) {
    BOOST_TEST(event("hello", "tick", "7") == "event: tick\nid: 7\ndata: hello\n\n");
    BOOST_TEST(event("hello") == "data: hello\n\n");
}

BOOST_AUTO_TEST_CASE(multi_line_data_becomes_one_data_field_per_line) {
    BOOST_TEST(event("a\nb") == "data: a\ndata: b\n\n");
    BOOST_TEST(event("a\r\nb\rc") == "data: a\ndata: b\ndata: c\n\n");
    BOOST_TEST(event("a\n\nb") == "data: a\ndata: \ndata: b\n\n");
    BOOST_TEST(event("a\n") == "data: a\ndata: \n\n");
    BOOST_TEST(event("") == "data: \n\n");
}

BOOST_AUTO_TEST_CASE(newlines_in_event_and_id_cannot_inject_fields) {
    BOOST_TEST(event("x", "a\ndata: evil", "1\r2") == "event: a data: evil\nid: 1 2\ndata: x\n\n");
}

BOOST_AUTO_TEST_CASE(comment_and_retry) {
    http::byte_buffer b;
    http::format_sse_comment(b, "heartbeat");
    http::format_sse_retry(b, 3000);
    BOOST_TEST(std::string(b.view()) == ": heartbeat\n\nretry: 3000\n\n");
}

BOOST_AUTO_TEST_CASE(writer_sets_the_head_and_flushes_every_event) {
    http::request_ctx ctx;
    recording_sink sink;
    ctx.bind_streams(nullptr, &sink);
    http::sse_writer sse(ctx);
    BOOST_TEST(!sse.start(1500));
    BOOST_TEST(ctx.response().content_type() == "text/event-stream");
    BOOST_TEST(std::string(ctx.response().extra_headers()) == "Cache-Control: no-cache\r\n");
    BOOST_TEST(!sse.send("one", "tick", "1"));
    BOOST_TEST(sse.comment("hb") == std::error_code());
    BOOST_REQUIRE(sink.writes.size() == 3u);
    BOOST_TEST(sink.writes[0] == "retry: 1500\n\n");
    BOOST_TEST(sink.writes[1] == "event: tick\nid: 1\ndata: one\n\n");
    BOOST_TEST(sink.writes[2] == ": hb\n\n");
    BOOST_TEST(sink.flushes == 3);
}

BOOST_AUTO_TEST_CASE(a_ctx_without_a_stream_reports_not_streaming) {
    http::request_ctx ctx;
    BOOST_TEST((ctx.write("x") == http::stream_error::not_streaming));
    BOOST_TEST(!ctx.is_ending());
    BOOST_TEST(http::status_of_stream_error(http::stream_error::body_too_large) == 413u);
    BOOST_TEST(http::status_of_stream_error(http::stream_error::timed_out) == 408u);
}

BOOST_AUTO_TEST_CASE(body_stream_reads_a_buffered_body_in_pieces) {
    http::request_ctx ctx;
    http::request req;
    ctx.bind(&req, "abcdefg", nullptr);
    char buf[3];
    std::string got;
    for (;;) {
        auto r = ctx.body_stream().read(buf);
        BOOST_TEST(!r.ec);
        if (r.size == 0) break;
        got.append(buf, r.size);
    }
    BOOST_TEST(got == "abcdefg");
    BOOST_TEST(!ctx.body_stream().is_streaming());
}

BOOST_AUTO_TEST_SUITE_END()
