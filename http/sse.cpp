#include "http/sse.hpp"

#include <chrono>

namespace fastfork::http {

namespace {

void append_field_value(byte_buffer& out, std::string_view v) {
    const std::size_t at = out.size();
    out.append(v);
    for (std::size_t i = at; i < out.size(); ++i)
        if (out.data()[i] == '\r' || out.data()[i] == '\n') out.data()[i] = ' ';
}

// The chunk a sleep is cut into while draining is watched: how late a drain ends a stream.
constexpr std::uint64_t drain_poll_ms = 100;

}  // namespace

void format_sse_event(byte_buffer& out, std::string_view data, std::string_view event, std::string_view id) {
    if (!event.empty()) {
        out.append(std::string_view("event: "));
        append_field_value(out, event);
        out.append(std::string_view("\n"));
    }
    if (!id.empty()) {
        out.append(std::string_view("id: "));
        append_field_value(out, id);
        out.append(std::string_view("\n"));
    }
    // Every line of the payload becomes its own data: field; the client joins them with LF.
    std::size_t start = 0;
    for (;;) {
        std::size_t end = start;
        while (end < data.size() && data[end] != '\r' && data[end] != '\n') ++end;
        out.append(std::string_view("data: "));
        out.append(data.substr(start, end - start));
        out.append(std::string_view("\n"));
        if (end >= data.size()) break;
        start = end + (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? 2 : 1);
        if (start >= data.size()) {
            out.append(std::string_view("data: \n"));  // a trailing newline is an empty last line
            break;
        }
    }
    out.append(std::string_view("\n"));
}

void format_sse_comment(byte_buffer& out, std::string_view text) {
    out.append(std::string_view(": "));
    append_field_value(out, text);
    out.append(std::string_view("\n\n"));
}

void format_sse_retry(byte_buffer& out, std::uint32_t ms) {
    out.append(std::string_view("retry: "));
    out.append_decimal(ms);
    out.append(std::string_view("\n\n"));
}

std::error_code sse_writer::start(std::uint32_t retry_ms) {
    ctx_.set_status(200);
    ctx_.set_content_type("text/event-stream");
    ctx_.add_header("Cache-Control", "no-cache");
    buf_.clear();
    if (retry_ms != 0) format_sse_retry(buf_, retry_ms);
    return send_buffer();
}

std::error_code sse_writer::send(std::string_view data, std::string_view event, std::string_view id) {
    buf_.clear();
    format_sse_event(buf_, data, event, id);
    return send_buffer();
}

std::error_code sse_writer::comment(std::string_view text) {
    buf_.clear();
    format_sse_comment(buf_, text);
    return send_buffer();
}

std::error_code sse_writer::wait(std::uint64_t ms, std::uint64_t heartbeat_ms) {
    std::uint64_t since_heartbeat = 0;
    while (ms > 0 && !ctx_.is_ending()) {
        std::uint64_t step = ms < drain_poll_ms ? ms : drain_poll_ms;
        if (heartbeat_ms != 0 && heartbeat_ms - since_heartbeat < step) step = heartbeat_ms - since_heartbeat;
        ctx_.sleep(std::chrono::milliseconds(step));
        ms -= step;
        since_heartbeat += step;
        if (heartbeat_ms != 0 && since_heartbeat >= heartbeat_ms) {
            since_heartbeat = 0;
            if (auto ec = comment("heartbeat")) return ec;
        }
    }
    return {};
}

std::error_code sse_writer::send_buffer() {
    if (!buf_.empty())
        if (auto ec = ctx_.write(buf_.view())) return ec;
    return ctx_.flush();
}

}  // namespace fastfork::http
