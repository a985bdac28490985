// The request loop on its fiber, over loopback TCP on a real worker::server: pipelining,
// 100-continue and its hook, a throwing handler, the response filter chain and the observers.
#include "worker/connection.hpp"

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <optional>

#include "loopback.hpp"

using namespace ff_test;
namespace worker = fastfork::worker;

namespace {

struct header_filter final : worker::response_filter {
    void filter(const fastfork::http::request& /*req*/, fastfork::http::response& resp) override {
        resp.add_header("X-Filtered", "yes");
    }
};

// Runs on the server's thread; read it after server_thread::stop().
struct recording_observer final : worker::request_observer {
    struct record {
        unsigned status;
        bool has_request;
        std::string remote;
    };
    std::mutex mutex;
    std::vector<record> seen;
    void on_request_completed(const worker::completed_request& r) noexcept override {
        std::lock_guard lock(mutex);
        seen.push_back({r.status, r.request != nullptr, std::string(r.remote)});
    }
};

std::string get_request(std::string_view target, std::string_view extra = {}) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view expect_head =
    "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_request_loop)

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order_in_one_write) {
    server_thread s;
    s.start();
    client c(s.port);
    c.send(get_request("/1") + get_request("/2") + get_request("/3"));
    BOOST_REQUIRE(c.read_until(responses(3), 5000ms));
    const auto rs = split_responses(c.data);
    BOOST_REQUIRE_EQUAL(rs.size(), 3u);
    BOOST_TEST(rs[0].body == "GET /1 ");
    BOOST_TEST(rs[1].body == "GET /2 ");
    BOOST_TEST(rs[2].body == "GET /3 ");
    BOOST_TEST(c.reads == 1);   // the batch is written once
    c.send(get_request("/4"));  // still alive
    BOOST_REQUIRE(c.read_until(responses(4), 5000ms));
    BOOST_TEST(split_responses(c.data)[3].body == "GET /4 ");
}

// While the handler runs, the read buffer is pinned: the rest of the batch waits in the kernel
// (reading pauses) and is read once the handler is done.
BOOST_AUTO_TEST_CASE(pipelined_batch_larger_than_the_read_buffer_is_answered_in_order) {
    server_thread s;
    s.start();
    client c(s.port);
    constexpr int depth = 2000;  // about 60 KB of heads behind a handler that waits
    std::string batch = get_request("/slow");
    for (int i = 1; i < depth; ++i) batch += get_request("/" + std::to_string(i));
    c.send(batch);
    BOOST_REQUIRE(c.read_until(responses(depth), 10'000ms));
    const auto rs = split_responses(c.data);
    BOOST_REQUIRE_EQUAL(rs.size(), static_cast<std::size_t>(depth));
    BOOST_TEST(rs[0].body == "GET /slow ");
    for (int i = 1; i < depth; ++i) BOOST_REQUIRE_EQUAL(rs[i].body, "GET /" + std::to_string(i) + " ");
}

BOOST_AUTO_TEST_CASE(chunked_body_arriving_byte_by_byte_is_decoded) {
    server_thread s;
    s.start();
    client c(s.port);
    const std::string bytes =
        "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
        get_request("/next");
    for (char ch : bytes) {
        c.send(std::string_view(&ch, 1));
        std::this_thread::sleep_for(1ms);
    }
    BOOST_REQUIRE(c.read_until(responses(2), 5000ms));
    const auto rs = split_responses(c.data);
    BOOST_TEST(rs[0].body == "POST /c hello world");
    BOOST_TEST(rs[1].body == "GET /next ");
}

BOOST_AUTO_TEST_CASE(continue_is_sent_only_while_the_body_has_not_arrived) {
    server_thread s;
    s.start();
    {
        client c(s.port);
        c.send(expect_head);
        BOOST_REQUIRE(c.read_until_contains(continue_line, 5000ms));
        BOOST_TEST(c.data == continue_line);  // nothing final before the body
        c.send("hello");
        BOOST_REQUIRE(c.read_until(responses(2), 5000ms));
        const auto rs = split_responses(c.data);
        BOOST_TEST(rs[0].status == 100u);
        BOOST_TEST(rs[1].status == 200u);
        BOOST_TEST(rs[1].body == "POST /up hello");
    }
    {
        client c(s.port);
        c.send(std::string(expect_head) + "hello");  // the body came with the head
        BOOST_REQUIRE(c.read_until(responses(1), 5000ms));
        const auto rs = split_responses(c.data);
        BOOST_TEST(rs[0].status == 200u);
        BOOST_TEST(rs[0].body == "POST /up hello");
        BOOST_TEST(c.data.find("100 Continue") == std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(continue_hook_refusal_answers_417_and_never_reads_the_body) {
    server_thread s;
    std::atomic<int> asked{0};
    s.continue_hook = [&asked](const fastfork::http::request&) {
        ++asked;
        return 417u;
    };
    s.start();
    client c(s.port);
    c.send(expect_head);
    BOOST_TEST(c.read_to_eof(5000ms));
    const auto rs = split_responses(c.data);
    BOOST_REQUIRE_EQUAL(rs.size(), 1u);
    BOOST_TEST(rs[0].status == 417u);
    BOOST_TEST(c.data.find("100 Continue") == std::string::npos);
    c.send("hello");  // a client that sends anyway: discarded, never a request
    c.shutdown_write();
    BOOST_TEST(eventually([&] { return get(s.counters.connections_active) == 0; }, 5000ms));
    BOOST_TEST(asked == 1);
    BOOST_TEST(s.handler_calls == 0);
}

BOOST_AUTO_TEST_CASE(handler_that_throws_gets_500_and_the_connection_closes) {
    server_thread s;
    s.start();
    client c(s.port);
    c.send(get_request("/throw") + get_request("/after"));
    BOOST_TEST(c.read_to_eof(5000ms));
    const auto rs = split_responses(c.data);
    BOOST_REQUIRE_EQUAL(rs.size(), 1u);  // the pipelined request behind it is not served
    BOOST_TEST(rs[0].status == 500u);
    BOOST_TEST(rs[0].head.find("Connection: close") != std::string::npos);
    BOOST_TEST(fastfork::shm::get(s.counters.handler_exceptions) == 1u);
    BOOST_TEST(s.handler_calls == 1);
}

BOOST_AUTO_TEST_CASE(filters_change_handler_responses_and_observers_see_every_answer) {
    header_filter filter;
    recording_observer observer;
    server_thread s;
    s.opts.header_timeout = 200ms;
    s.filters.push_back(&filter);
    s.observers.push_back(&observer);
    s.start();
    {
        client c(s.port);
        c.send(get_request("/ok"));
        BOOST_REQUIRE(c.read_until(responses(1), 5000ms));
        BOOST_TEST(split_responses(c.data)[0].head.find("X-Filtered: yes\r\n") != std::string::npos);
    }
    {
        client c(s.port);
        c.send("GET / HTTP/1.1\r\nHost : t\r\n\r\n");  // space before colon: smuggling, 400
        BOOST_REQUIRE(c.read_until(responses(1), 5000ms));
        const auto r = split_responses(c.data)[0];
        BOOST_TEST(r.status == 400u);
        BOOST_TEST(r.head.find("X-Filtered") == std::string::npos);  // runtime answers skip filters
        BOOST_TEST(c.read_to_eof(5000ms));
    }
    {
        client c(s.port);
        c.send(get_request("/throw"));
        BOOST_REQUIRE(c.read_until(responses(1), 5000ms));
        BOOST_TEST(split_responses(c.data)[0].status == 500u);
    }
    {
        client c(s.port);
        c.send("GET / HTTP/1.1\r\n");  // never completed: 408
        BOOST_REQUIRE(c.read_until(responses(1), 5000ms));
        BOOST_TEST(split_responses(c.data)[0].status == 408u);
    }
    s.stop();
    std::lock_guard lock(observer.mutex);
    BOOST_REQUIRE_EQUAL(observer.seen.size(), 4u);
    const unsigned statuses[] = {200, 400, 500, 408};
    const bool has_request[] = {true, false, true, false};
    for (std::size_t i = 0; i < 4; ++i) {
        BOOST_TEST_CONTEXT("answer " << i) {
            BOOST_TEST(observer.seen[i].status == statuses[i]);
            BOOST_TEST(observer.seen[i].has_request == has_request[i]);
            BOOST_TEST(observer.seen[i].remote == "127.0.0.1");
        }
    }
}

BOOST_AUTO_TEST_CASE(observers_see_refusals_answered_before_any_request) {
    recording_observer observer;
    server_thread s;
    s.opts.max_connections = 1;
    s.opts.linger_timeout = 30'000ms;  // `first` stays open while `second` connects
    s.continue_hook = [](const fastfork::http::request&) { return 417u; };
    s.observers.push_back(&observer);
    s.start();
    {
        client first(s.port);
        first.send(expect_head);  // refused by the continue hook: 417
        BOOST_REQUIRE(first.read_until(responses(1), 5000ms));
        BOOST_TEST(split_responses(first.data)[0].status == 417u);
        client second(s.port);  // over max_connections while `first` lingers: 503
        BOOST_REQUIRE(second.read_until(responses(1), 5000ms));
        BOOST_TEST(split_responses(second.data)[0].status == 503u);
    }
    s.stop();
    std::lock_guard lock(observer.mutex);
    BOOST_REQUIRE_EQUAL(observer.seen.size(), 2u);
    BOOST_TEST(observer.seen[0].status == 417u);
    BOOST_TEST(observer.seen[0].has_request);
    BOOST_TEST(observer.seen[1].status == 503u);
    BOOST_TEST(!observer.seen[1].has_request);
    BOOST_TEST(observer.seen[1].remote == "127.0.0.1");
}

BOOST_AUTO_TEST_SUITE_END()
