#include "handlers/streaming_routes.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "http/field.hpp"
#include "http/sse.hpp"
#include "http/status.hpp"

namespace fastfork::handlers {

namespace {

// One read and one write move this much; it lives on the fiber's stack (64 KiB by default).
constexpr std::size_t echo_piece = 16 * 1024;

bool parse_query_number(http::request_ctx& ctx, std::string_view key, std::uint64_t& value) {
    const std::string_view text = ctx.arg(key);
    if (text.empty()) return true;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size();
}

void answer_text(http::request_ctx& ctx, unsigned status, std::string_view text) {
    ctx.set_status(status);
    ctx.set_content_type("text/plain");
    ctx.set_body_static(text);
}

}  // namespace

void echo_route(http::request_ctx& ctx) {
    http::body_stream& in = ctx.body_stream();
    // Whatever the size by default: memory stays one piece. ?max_body=N limits it (a handler that
    // refuses an upload it has not read, before any 100 Continue).
    std::uint64_t max_body = 0;
    if (!parse_query_number(ctx, "max_body", max_body)) {
        answer_text(ctx, 400, "echo: expected ?max_body=N\n");
        return;
    }
    in.set_max_body(max_body);
    const std::string_view type = ctx.header(http::field::content_type);
    ctx.set_content_type("application/octet-stream");
    if (!type.empty()) ctx.response().set_content_type_copy(type);
    const http::request& req = ctx.request();
    if (req.framing == http::body_framing::none) return;  // nothing to echo: 200, empty
    if (req.framing == http::body_framing::content_length) ctx.set_content_length(req.content_length);
    char buf[echo_piece];
    bool started = false;
    for (;;) {
        const http::read_result r = in.read(buf);
        if (r.ec) {
            if (!started) {
                const unsigned status = http::status_of_stream_error(r.ec);
                answer_text(ctx, status, http::status_body(status));
            }
            return;  // a started response is cut: the worker closes the connection
        }
        if (r.size == 0) return;
        started = true;
        // Flushed per piece: a client that waits for its echo before sending more gets it.
        if (ctx.write({buf, r.size}) || ctx.flush()) return;
    }
}

void sse_clock_route(http::request_ctx& ctx) {
    std::uint64_t interval_ms = 1000, count = 0, heartbeat_ms = 15000;
    if (!parse_query_number(ctx, "interval_ms", interval_ms) || interval_ms < 10 || interval_ms > 60000 ||
        !parse_query_number(ctx, "count", count) || !parse_query_number(ctx, "heartbeat_ms", heartbeat_ms)) {
        answer_text(ctx, 400, "sse_clock: expected interval_ms=10..60000, count=N, heartbeat_ms=N\n");
        return;
    }
    http::sse_writer sse(ctx);
    if (sse.start(3000)) return;
    for (std::uint64_t id = 1; count == 0 || id <= count; ++id) {
        char time_text[64];
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&now, &tm);
        const std::size_t n = std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%SZ", &tm);
        char id_text[24];
        const auto idr = std::to_chars(id_text, id_text + sizeof id_text, id);
        if (sse.send({time_text, n}, "tick", {id_text, static_cast<std::size_t>(idr.ptr - id_text)})) return;
        if (count != 0 && id == count) return;
        if (sse.wait(interval_ms, heartbeat_ms)) return;
        if (ctx.is_ending()) {
            // Draining: say goodbye, so a client can tell this end from a network failure.
            (void)sse.send("the server is shutting down", "end");
            return;
        }
    }
}

}  // namespace fastfork::handlers
