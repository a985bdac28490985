#include "http/response.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>
#include <string>

#include "http/date.hpp"

using namespace fastfork::http;

namespace {

constexpr std::string_view example_date = "Sun, 06 Nov 1994 08:49:37 GMT";

// A small, strict response parser for round trips: it checks what a client would rely on.
struct parsed_response {
    bool ok = false;
    std::string version;
    unsigned status = 0;
    std::string reason;
    std::multimap<std::string, std::string> headers;
    std::vector<std::string> header_order;
    std::string body;
    bool close_delimited = false;  // neither Content-Length nor chunked: the body runs to the end
    std::size_t consumed = 0;

    [[nodiscard]] bool has(const std::string& name) const { return headers.count(name) != 0; }
    [[nodiscard]] std::size_t count(const std::string& name) const { return headers.count(name); }
    [[nodiscard]] std::string get(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Reads one CRLF-terminated line starting at `at`; false when no CRLF follows.
bool read_line(std::string_view in, std::size_t& at, std::string_view& line) {
    const std::size_t end = in.find("\r\n", at);
    if (end == std::string_view::npos) return false;
    line = in.substr(at, end - at);
    at = end + 2;
    return true;
}

parsed_response parse_response(std::string_view in, bool head_request = false) {
    parsed_response r;
    std::size_t at = 0;
    std::string_view line;
    if (!read_line(in, at, line) || line.size() < 13 || line[8] != ' ' || line[12] != ' ') return r;
    r.version = std::string(line.substr(0, 8));
    r.status = static_cast<unsigned>(std::stoul(std::string(line.substr(9, 3))));
    r.reason = std::string(line.substr(13));
    for (;;) {
        if (!read_line(in, at, line)) return r;
        if (line.empty()) break;
        const std::size_t colon = line.find(": ");
        if (colon == std::string_view::npos || colon == 0) return r;
        std::string name(line.substr(0, colon));
        r.header_order.push_back(name);
        r.headers.emplace(std::move(name), std::string(line.substr(colon + 2)));
    }
    const bool bodiless = r.status < 200 || r.status == 204 || r.status == 304 || head_request;
    if (bodiless) {
        r.consumed = at;
    } else if (r.get("Transfer-Encoding") == "chunked") {
        for (;;) {
            if (!read_line(in, at, line)) return r;
            char* end = nullptr;
            const std::string size_text(line);
            const unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
            if (size_text.empty() || *end != '\0') return r;
            if (size == 0) {
                if (!read_line(in, at, line) || !line.empty()) return r;  // no trailers expected
                break;
            }
            if (in.size() < at + size + 2 || in.substr(at + size, 2) != "\r\n") return r;
            r.body += in.substr(at, size);
            at += size + 2;
        }
        r.consumed = at;
    } else if (r.has("Content-Length")) {
        const std::size_t n = std::stoul(r.get("Content-Length"));
        if (in.size() < at + n) return r;
        r.body = std::string(in.substr(at, n));
        r.consumed = at + n;
    } else {
        r.close_delimited = true;
        r.body = std::string(in.substr(at));
        r.consumed = in.size();
    }
    r.ok = true;
    return r;
}

struct written {
    bool keep_alive;
    std::string bytes;
};

written write(const response& resp, write_options opt) {
    byte_buffer out;
    const bool keep = write_response(resp, opt, out);
    return {keep, std::string(out.view())};
}

write_options http11() {
    write_options o;
    o.date = example_date;
    o.server = "fastfork";
    return o;
}

write_options http10() {
    write_options o = http11();
    o.version_minor = 0;
    o.keep_alive = false;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_response)

BOOST_AUTO_TEST_CASE(writes_exact_bytes_for_a_simple_response) {
    response resp;
    resp.set_content_type("text/plain");
    resp.set_body("Hello, World!");
    const auto w = write(resp, http11());
    BOOST_TEST(w.keep_alive);
    BOOST_TEST(w.bytes ==
               "HTTP/1.1 200 OK\r\n"
               "Server: fastfork\r\n"
               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
               "Content-Type: text/plain\r\n"
               "Content-Length: 13\r\n"
               "\r\n"
               "Hello, World!");
}

BOOST_AUTO_TEST_CASE(round_trips_a_200_with_body) {
    response resp;
    resp.set_content_type("application/json");
    resp.set_body(R"({"message":"Hello, World!"})");
    const auto w = write(resp, http11());
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.version == "HTTP/1.1");
    BOOST_TEST(r.status == 200u);
    BOOST_TEST(r.reason == "OK");
    BOOST_TEST(r.get("Content-Type") == "application/json");
    BOOST_TEST(r.get("Content-Length") == "27");
    BOOST_TEST(r.get("Date") == std::string(example_date));
    BOOST_TEST(r.get("Server") == "fastfork");
    BOOST_TEST(!r.has("Connection"));
    BOOST_TEST(!r.has("Transfer-Encoding"));
    BOOST_TEST(r.body == R"({"message":"Hello, World!"})");
    BOOST_TEST(r.consumed == w.bytes.size());
}

BOOST_AUTO_TEST_CASE(headers_come_in_the_documented_order) {
    response resp;
    resp.set_content_type("text/plain");
    resp.add_header("X-First", "1");
    resp.add_header("X-Second", "2");
    resp.set_body("x");
    write_options o = http11();
    o.keep_alive = false;
    const auto r = parse_response(write(resp, o).bytes);
    BOOST_TEST_REQUIRE(r.ok);
    const std::vector<std::string> expected = {"Server",     "Date",    "Content-Type", "Content-Length",
                                               "Connection", "X-First", "X-Second"};
    BOOST_TEST(r.header_order == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(head_gets_get_headers_without_body) {
    response resp;
    resp.set_content_type("text/html");
    resp.set_body("<html>twenty-six bytes..</html>");
    write_options get_opt = http11();
    write_options head_opt = http11();
    head_opt.head_request = true;
    const auto get_bytes = write(resp, get_opt).bytes;
    const auto head = write(resp, head_opt);
    BOOST_TEST(head.keep_alive);
    const auto r = parse_response(head.bytes, true);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("Content-Length") == std::to_string(resp.body().size()));
    BOOST_TEST(r.consumed == head.bytes.size());  // nothing after the head
    // The GET response is the HEAD response plus the body.
    BOOST_TEST(get_bytes == head.bytes + std::string(resp.body()));
}

BOOST_AUTO_TEST_CASE(head_of_a_chunked_response_announces_chunked_but_sends_nothing) {
    response resp;
    resp.set_chunked(true);
    resp.set_body("streamed");
    write_options o = http11();
    o.head_request = true;
    const auto w = write(resp, o);
    const auto r = parse_response(w.bytes, true);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("Transfer-Encoding") == "chunked");
    BOOST_TEST(!r.has("Content-Length"));
    BOOST_TEST(r.consumed == w.bytes.size());
}

BOOST_AUTO_TEST_CASE(no_content_has_neither_length_nor_body) {
    response resp;
    resp.set_status(204);
    resp.set_body("ignored");
    const auto w = write(resp, http11());
    BOOST_TEST(w.keep_alive);
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.status == 204u);
    BOOST_TEST(r.reason == "No Content");
    BOOST_TEST(!r.has("Content-Length"));
    BOOST_TEST(!r.has("Transfer-Encoding"));
    BOOST_TEST(r.consumed == w.bytes.size());
}

BOOST_AUTO_TEST_CASE(not_modified_has_no_content_length_and_no_body) {
    response resp;
    resp.set_status(304);
    resp.add_header("ETag", "\"abc\"");
    resp.set_body("ignored");
    const auto w = write(resp, http11());
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.status == 304u);
    BOOST_TEST(!r.has("Content-Length"));
    BOOST_TEST(r.get("ETag") == "\"abc\"");
    BOOST_TEST(r.consumed == w.bytes.size());
}

BOOST_AUTO_TEST_CASE(informational_and_no_content_never_go_chunked) {
    for (unsigned code : {103u, 204u, 304u}) {
        response resp;
        resp.set_status(code);
        resp.set_chunked(true);
        const auto w = write(resp, http11());
        const auto r = parse_response(w.bytes);
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(!r.has("Transfer-Encoding"), "code " << code);
        BOOST_TEST(!r.has("Content-Length"), "code " << code);
        BOOST_TEST(r.consumed == w.bytes.size());
    }
}

BOOST_AUTO_TEST_CASE(empty_body_gets_content_length_zero) {
    response resp;
    const auto r = parse_response(write(resp, http11()).bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("Content-Length") == "0");
    BOOST_TEST(r.body.empty());
}

BOOST_AUTO_TEST_CASE(chunked_on_http11_is_framed_in_chunks) {
    response resp;
    resp.set_chunked(true);
    std::string body(300, 'b');
    resp.set_body(body);
    const auto w = write(resp, http11());
    BOOST_TEST(w.keep_alive);
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("Transfer-Encoding") == "chunked");
    BOOST_TEST(!r.has("Content-Length"));
    BOOST_TEST(r.body == body);
    BOOST_TEST(r.consumed == w.bytes.size());
    BOOST_TEST(w.bytes.find("\r\n\r\n12c\r\n") != std::string::npos);  // 300 = 0x12c, lower-case hex
    BOOST_TEST(w.bytes.ends_with("\r\n0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(chunked_with_empty_body_sends_only_the_last_chunk) {
    response resp;
    resp.set_chunked(true);
    const auto w = write(resp, http11());
    BOOST_TEST(w.bytes.ends_with("chunked\r\n\r\n0\r\n\r\n"));
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.body.empty());
}

BOOST_AUTO_TEST_CASE(chunked_on_http10_falls_back_to_close_delimited) {
    for (bool keep : {false, true}) {
        response resp;
        resp.set_chunked(true);
        resp.set_body("raw body");
        write_options o = http10();
        o.keep_alive = keep;
        const auto w = write(resp, o);
        BOOST_TEST(!w.keep_alive);
        const auto r = parse_response(w.bytes);
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(r.close_delimited);
        BOOST_TEST(!r.has("Transfer-Encoding"));
        BOOST_TEST(!r.has("Content-Length"));
        BOOST_TEST(!r.has("Connection"));
        BOOST_TEST(r.body == "raw body");
    }
}

BOOST_AUTO_TEST_CASE(http11_keep_alive_sends_no_connection_header) {
    response resp;
    const auto w = write(resp, http11());
    BOOST_TEST(w.keep_alive);
    BOOST_TEST(!parse_response(w.bytes).has("Connection"));
}

BOOST_AUTO_TEST_CASE(http11_without_keep_alive_sends_connection_close) {
    response resp;
    write_options o = http11();
    o.keep_alive = false;
    const auto w = write(resp, o);
    BOOST_TEST(!w.keep_alive);
    const auto r = parse_response(w.bytes);
    BOOST_TEST(r.get("Connection") == "close");
    BOOST_TEST(r.count("Connection") == 1u);
}

BOOST_AUTO_TEST_CASE(http10_keep_alive_sends_connection_keep_alive) {
    response resp;
    resp.set_body("ten bytes!");
    write_options o = http10();
    o.keep_alive = true;
    const auto w = write(resp, o);
    BOOST_TEST(w.keep_alive);
    const auto r = parse_response(w.bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.version == "HTTP/1.1");  // RFC 9110 §6.2: we answer with our own version
    BOOST_TEST(r.get("Connection") == "keep-alive");
    BOOST_TEST(r.get("Content-Length") == "10");
    BOOST_TEST(r.body == "ten bytes!");
}

BOOST_AUTO_TEST_CASE(http10_without_keep_alive_sends_no_connection_header) {
    response resp;
    const auto w = write(resp, http10());
    BOOST_TEST(!w.keep_alive);
    BOOST_TEST(!parse_response(w.bytes).has("Connection"));
}

BOOST_AUTO_TEST_CASE(set_close_overrides_keep_alive) {
    response resp;
    resp.set_close(true);
    const auto w = write(resp, http11());
    BOOST_TEST(!w.keep_alive);
    BOOST_TEST(parse_response(w.bytes).get("Connection") == "close");

    write_options o = http10();
    o.keep_alive = true;
    const auto w10 = write(resp, o);
    BOOST_TEST(!w10.keep_alive);
    BOOST_TEST(!parse_response(w10.bytes).has("Connection"));
}

BOOST_AUTO_TEST_CASE(extra_headers_are_sent_in_order_with_duplicates) {
    response resp;
    resp.add_header("Set-Cookie", "a=1");
    resp.add_header("Set-Cookie", "b=2");
    resp.add_header("Cache-Control", "no-store");
    BOOST_TEST(resp.extra_headers() == "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nCache-Control: no-store\r\n");
    const auto r = parse_response(write(resp, http11()).bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.count("Set-Cookie") == 2u);
    BOOST_TEST(r.get("Cache-Control") == "no-store");
}

BOOST_AUTO_TEST_CASE(header_values_cannot_inject_lines) {
    response resp;
    resp.add_header("X-Echo", "evil\r\nSet-Cookie: pwned=1");
    resp.add_header("Bad Name", "dropped");
    resp.add_header("Bad\r\nName", "dropped");
    resp.add_header("", "dropped");
    BOOST_TEST(resp.extra_headers() == "X-Echo: evil  Set-Cookie: pwned=1\r\n");
    const auto r = parse_response(write(resp, http11()).bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(!r.has("Set-Cookie"));
}

BOOST_AUTO_TEST_CASE(trusted_headers_are_sent_like_checked_ones_in_order) {
    // The server's own lines (add_trusted_header) and handler lines (add_header) share one list:
    // same bytes, in the order they were added.
    response resp;
    resp.add_trusted_header("ETag", "\"5f-1a\"");
    resp.add_header("X-Handler", "1");
    resp.add_trusted_header("Accept-Ranges", "bytes");
    BOOST_TEST(resp.extra_headers() == "ETag: \"5f-1a\"\r\nX-Handler: 1\r\nAccept-Ranges: bytes\r\n");
    const auto r = parse_response(write(resp, http11()).bytes);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("ETag") == "\"5f-1a\"");
    BOOST_TEST(r.get("Accept-Ranges") == "bytes");
}

BOOST_AUTO_TEST_CASE(sendable_field_values_exclude_cr_lf_and_nul) {
    // What add_trusted_header asserts in debug builds.
    BOOST_TEST(is_sendable_field_value("W/\"abc\", bytes 0-9/100"));
    BOOST_TEST(is_sendable_field_value(""));
    BOOST_TEST(!is_sendable_field_value("a\r\nSet-Cookie: x=1"));
    BOOST_TEST(!is_sendable_field_value("a\nb"));
    BOOST_TEST(!is_sendable_field_value(std::string_view("a\0b", 3)));
}

BOOST_AUTO_TEST_CASE(server_and_date_are_omitted_when_empty) {
    response resp;
    resp.set_body("x");
    write_options o;
    const auto w = write(resp, o);
    BOOST_TEST(w.bytes == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    o.date = example_date;
    const auto r = parse_response(write(resp, o).bytes);
    BOOST_TEST(!r.has("Server"));
    BOOST_TEST(r.get("Date") == std::string(example_date));
}

BOOST_AUTO_TEST_CASE(date_cache_output_goes_into_the_date_header) {
    date_cache dates;
    response resp;
    write_options o;
    o.date = dates.get(784111777);
    BOOST_TEST(parse_response(write(resp, o).bytes).get("Date") == "Sun, 06 Nov 1994 08:49:37 GMT");
}

BOOST_AUTO_TEST_CASE(unusual_status_codes_keep_their_number) {
    response resp;
    resp.set_status(299);
    BOOST_TEST(write(resp, {}).bytes.starts_with("HTTP/1.1 299 Unknown\r\n"));
    resp.set_status(42);
    BOOST_TEST(write(resp, {}).bytes.starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
}

BOOST_AUTO_TEST_CASE(responses_append_to_the_buffer_for_pipelining) {
    byte_buffer out;
    response a;
    a.set_body("first");
    response b;
    b.set_status(404);
    b.set_body("second");
    BOOST_TEST(write_response(a, http11(), out));
    BOOST_TEST(write_response(b, http11(), out));
    const std::string all(out.view());
    const auto r1 = parse_response(all);
    BOOST_TEST_REQUIRE(r1.ok);
    BOOST_TEST(r1.body == "first");
    const auto r2 = parse_response(std::string_view(all).substr(r1.consumed));
    BOOST_TEST_REQUIRE(r2.ok);
    BOOST_TEST(r2.status == 404u);
    BOOST_TEST(r2.body == "second");
    BOOST_TEST(r1.consumed + r2.consumed == all.size());
}

BOOST_AUTO_TEST_CASE(static_body_is_not_copied) {
    static constexpr std::string_view page = "static page";
    response resp;
    resp.set_body_static(page);
    BOOST_TEST(static_cast<const void*>(resp.body().data()) == static_cast<const void*>(page.data()));
    BOOST_TEST(parse_response(write(resp, http11()).bytes).body == "static page");
}

BOOST_AUTO_TEST_CASE(append_after_static_body_copies_then_appends) {
    response resp;
    resp.set_body_static("abc");
    resp.append_body("def");
    BOOST_TEST(resp.body() == "abcdef");
    resp.set_body("x");
    resp.append_body("y");
    BOOST_TEST(resp.body() == "xy");
}

BOOST_AUTO_TEST_CASE(body_may_be_set_from_itself) {
    response resp;
    resp.set_body("0123456789");
    resp.set_body(resp.body().substr(3, 4));
    BOOST_TEST(resp.body() == "3456");
    for (int i = 0; i < 6; ++i) resp.append_body(resp.body());  // forces the storage to move
    BOOST_TEST(resp.body().size() == 4u * 64u);
    BOOST_TEST(resp.body().substr(0, 8) == "34563456");
}

BOOST_AUTO_TEST_CASE(body_buffer_writes_go_into_the_body) {
    response resp;
    resp.set_body_static("static");
    resp.body_buffer().append("built in place");
    BOOST_TEST(resp.body() == "built in place");
}

BOOST_AUTO_TEST_CASE(content_type_copy_outlives_the_source) {
    response resp;
    {
        std::string type = "text/csv; charset=utf-8";
        resp.set_content_type_copy(type);
        type.assign(type.size(), 'x');
    }
    BOOST_TEST(resp.content_type() == "text/csv; charset=utf-8");
    resp.set_content_type_copy(resp.content_type());
    BOOST_TEST(resp.content_type() == "text/csv; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(reset_restores_defaults_and_keeps_capacity) {
    response resp;
    resp.set_status(404);
    resp.set_content_type("text/plain");
    resp.add_header("X-A", "1");
    resp.set_body(std::string(1000, 'z'));
    resp.set_chunked(true);
    resp.set_close(true);
    const std::size_t cap = resp.body_buffer().capacity();
    resp.reset();
    BOOST_TEST(resp.status() == 200u);
    BOOST_TEST(resp.content_type().empty());
    BOOST_TEST(resp.extra_headers().empty());
    BOOST_TEST(resp.body().empty());
    BOOST_TEST(!resp.chunked());
    BOOST_TEST(!resp.close());
    BOOST_TEST(resp.body_buffer().capacity() == cap);
}

BOOST_AUTO_TEST_CASE(error_response_is_short_plain_text_and_closes) {
    byte_buffer out;
    write_error_response(400, example_date, "fastfork", out);
    BOOST_TEST(out.view() ==
               "HTTP/1.1 400 Bad Request\r\n"
               "Server: fastfork\r\n"
               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: 16\r\n"
               "Connection: close\r\n"
               "\r\n"
               "400 Bad Request\n");
}

BOOST_AUTO_TEST_CASE(error_responses_round_trip_for_server_generated_codes) {
    for (unsigned code : {400u, 408u, 413u, 414u, 429u, 431u, 500u, 501u, 503u, 505u}) {
        byte_buffer out;
        write_error_response(code, {}, {}, out);
        const auto r = parse_response(out.view());
        BOOST_TEST_REQUIRE(r.ok);
        BOOST_TEST(r.status == code);
        BOOST_TEST(r.get("Connection") == "close");
        BOOST_TEST(!r.has("Server"));
        BOOST_TEST(!r.has("Date"));
        BOOST_TEST(r.body == std::to_string(code) + " " + r.reason + "\n");
        BOOST_TEST(r.consumed == out.size());
    }
}

BOOST_AUTO_TEST_CASE(write_chunk_frames_data_in_hex) {
    byte_buffer out;
    write_chunk("hello", out);
    write_chunk("", out);  // must not produce a premature last chunk
    write_chunk(std::string(26, 'a'), out);
    write_last_chunk(out);
    BOOST_TEST(out.view() == "5\r\nhello\r\n1a\r\n" + std::string(26, 'a') + "\r\n0\r\n\r\n");
}

// ---- file bodies (issue 6: static files sent with sendfile after the head)

BOOST_AUTO_TEST_CASE(file_body_writes_content_length_but_no_bytes) {
    response resp;
    resp.set_content_type("application/octet-stream");
    resp.set_body("replaced");
    resp.set_body_file(7, 100, 3'000'000);
    BOOST_TEST(resp.has_file_body());
    BOOST_TEST(resp.body().empty());
    const auto w = write(resp, http11());
    BOOST_TEST(w.bytes ==
               "HTTP/1.1 200 OK\r\n"
               "Server: fastfork\r\n"
               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
               "Content-Type: application/octet-stream\r\n"
               "Content-Length: 3000000\r\n"
               "\r\n");
    BOOST_TEST(has_file_payload(resp, http11()));
    BOOST_TEST(resp.body_file_fd() == 7);
    BOOST_TEST(resp.body_file_offset() == 100u);
    BOOST_TEST(resp.body_file_length() == 3'000'000u);
}

BOOST_AUTO_TEST_CASE(file_body_is_never_chunked) {
    response resp;
    resp.set_chunked(true);
    resp.set_body_file(3, 0, 10);
    const auto r = parse_response(write(resp, http11()).bytes, /*head_request=*/true);
    BOOST_TEST_REQUIRE(r.ok);
    BOOST_TEST(r.get("Content-Length") == "10");
    BOOST_TEST(!r.has("Transfer-Encoding"));
}

BOOST_AUTO_TEST_CASE(file_body_has_no_payload_for_head_and_304) {
    response resp;
    resp.set_body_file(3, 0, 10);
    write_options head = http11();
    head.head_request = true;
    BOOST_TEST(!has_file_payload(resp, head));
    const auto r = parse_response(write(resp, head).bytes, /*head_request=*/true);
    BOOST_TEST(r.get("Content-Length") == "10");  // RFC 9110 §9.3.2: as for GET
    resp.set_status(304);
    BOOST_TEST(!has_file_payload(resp, http11()));
    BOOST_TEST(!parse_response(write(resp, http11()).bytes).has("Content-Length"));
}

BOOST_AUTO_TEST_CASE(setting_another_body_drops_the_file_body) {
    response resp;
    resp.set_body_file(3, 0, 10);
    resp.set_body("abc");
    BOOST_TEST(!resp.has_file_body());
    BOOST_TEST(parse_response(write(resp, http11()).bytes).body == "abc");
    resp.set_body_file(3, 0, 10);
    resp.set_body_static("xyz");
    BOOST_TEST(!resp.has_file_body());
    resp.set_body_file(3, 0, 10);
    resp.append_body("!");
    BOOST_TEST(!resp.has_file_body());
    BOOST_TEST(resp.body() == "!");
}

BOOST_AUTO_TEST_CASE(release_hook_runs_once_at_reset) {
    int calls = 0;
    response resp;
    resp.set_body_file(3, 0, 10);
    resp.set_release_hook([](void* p) { ++*static_cast<int*>(p); }, &calls);
    BOOST_TEST(calls == 0);
    resp.reset();
    BOOST_TEST(calls == 1);
    BOOST_TEST(!resp.has_file_body());
    resp.reset();
    BOOST_TEST(calls == 1);
    // Replacing a hook runs the previous one.
    resp.set_release_hook([](void* p) { ++*static_cast<int*>(p); }, &calls);
    resp.set_release_hook([](void* p) { *static_cast<int*>(p) += 10; }, &calls);
    BOOST_TEST(calls == 2);
    resp.reset();
    BOOST_TEST(calls == 12);
}

BOOST_AUTO_TEST_SUITE_END()
