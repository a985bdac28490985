#include "http/request_ctx.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace fastfork::http;

namespace {

request make_get(std::string_view target, std::string_view path, std::string_view query) {
    request r;
    r.method = method::get;
    r.method_name = "GET";
    r.target = target;
    r.path = path;
    r.query = query;
    r.host = "example.com";
    (void)r.headers.try_add("Host", "example.com", field::host);
    (void)r.headers.try_add("X-Custom", "yes", field::unknown);
    return r;
}

// Records what the ctx forwards to the worker's executor.
class fake_executor final : public executor {
public:
    void sleep(std::chrono::milliseconds d) override { slept += d; }
    void run_blocking(void (*fn)(void*), void* arg) override {
        ++blocking_calls;
        fn(arg);
    }
    std::chrono::milliseconds slept{0};
    int blocking_calls = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_request_ctx)

BOOST_AUTO_TEST_CASE(fresh_ctx_views_an_empty_request) {
    request_ctx ctx;
    BOOST_TEST(ctx.target().empty());
    BOOST_TEST(ctx.path().empty());
    BOOST_TEST(ctx.query_string().empty());
    BOOST_TEST(ctx.headers().empty());
    BOOST_TEST(ctx.body().empty());
    BOOST_TEST(ctx.args().size() == 0u);
    BOOST_TEST(ctx.remote_ip().empty());
    BOOST_TEST(ctx.response().status() == 200u);
}

BOOST_AUTO_TEST_CASE(bind_exposes_the_request_and_body) {
    const request req = make_get("/a/b?x=1", "/a/b", "x=1");
    request_ctx ctx;
    ctx.bind(&req, "payload", nullptr);
    ctx.set_connection(7, 3);
    BOOST_TEST((ctx.method() == method::get));
    BOOST_TEST(ctx.method_name() == "GET");
    BOOST_TEST(ctx.target() == "/a/b?x=1");
    BOOST_TEST(ctx.path() == "/a/b");
    BOOST_TEST(ctx.query_string() == "x=1");
    BOOST_TEST(!ctx.is_head());
    BOOST_TEST(ctx.header(field::host) == "example.com");
    BOOST_TEST(ctx.headers().size() == 2u);
    BOOST_TEST(ctx.body() == "payload");
    BOOST_TEST(ctx.connection_id() == 7u);
    BOOST_TEST(ctx.request_number() == 3u);
}

BOOST_AUTO_TEST_CASE(args_are_decoded_on_first_use) {
    const request req = make_get("/s?q=hello+world&lang=en&empty=", "/s", "q=hello+world&lang=en&empty=");
    request_ctx ctx;
    ctx.bind(&req, {}, nullptr);
    BOOST_TEST(ctx.arg("q") == "hello world");
    BOOST_TEST(ctx.arg("lang") == "en");
    BOOST_TEST(ctx.args().has("empty"));
    BOOST_TEST(!ctx.args().has("missing"));
    BOOST_TEST(ctx.args().size() == 3u);
    // Repeated calls return the same parsed list.
    BOOST_TEST(&ctx.args() == &ctx.args());
}

BOOST_AUTO_TEST_CASE(args_are_reparsed_after_reset_and_rebind) {
    const request first = make_get("/?a=1", "/", "a=1");
    const request second = make_get("/?b=2", "/", "b=2");
    request_ctx ctx;
    ctx.bind(&first, {}, nullptr);
    BOOST_TEST(ctx.arg("a") == "1");
    ctx.reset();
    ctx.bind(&second, {}, nullptr);
    BOOST_TEST(!ctx.args().has("a"));
    BOOST_TEST(ctx.arg("b") == "2");
}

BOOST_AUTO_TEST_CASE(user_values_are_stored_replaced_and_bounded) {
    request_ctx ctx;
    int a = 1, b = 2;
    BOOST_TEST(ctx.set_user_value("a", &a));
    BOOST_TEST(ctx.user_value("a") == &a);
    BOOST_TEST(ctx.user_value("b") == nullptr);
    BOOST_TEST(ctx.set_user_value("a", &b));
    BOOST_TEST(ctx.user_value("a") == &b);

    static const char* keys[] = {"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"};
    for (std::size_t i = 0; i + 1 < request_ctx::user_value_capacity; ++i) BOOST_TEST(ctx.set_user_value(keys[i], &a));
    BOOST_TEST(!ctx.set_user_value("overflow", &a));
    BOOST_TEST(ctx.user_value("overflow") == nullptr);
    BOOST_TEST(ctx.set_user_value("a", &a));  // replacing still works when full
}

BOOST_AUTO_TEST_CASE(set_remote_copies_and_truncates) {
    request_ctx ctx;
    {
        std::string ip = "192.168.10.20";
        ctx.set_remote(ip, 5555);
        ip.assign(ip.size(), 'x');
    }
    BOOST_TEST(ctx.remote_ip() == "192.168.10.20");
    BOOST_TEST(ctx.remote_port() == 5555u);
    ctx.set_remote("0000:0000:0000:0000:0000:ffff:255.255.255.255", 1);  // 45 characters
    BOOST_TEST(ctx.remote_ip().size() == 45u);
    ctx.set_remote(std::string(100, '1'), 1);
    BOOST_TEST(ctx.remote_ip() == std::string(45, '1'));
    ctx.set_remote({}, 0);
    BOOST_TEST(ctx.remote_ip().empty());
}

BOOST_AUTO_TEST_CASE(reset_clears_request_response_and_user_values_but_keeps_storage) {
    const request req = make_get("/?a=1", "/", "a=1");
    request_ctx ctx;
    int v = 0;
    ctx.bind(&req, "body", nullptr);
    (void)ctx.args();
    ctx.set_user_value("v", &v);
    ctx.set_status(404);
    ctx.set_content_type("text/plain");
    ctx.add_header("X-A", "1");
    ctx.set_body(std::string(500, 'b'));
    const std::size_t cap = ctx.response().body_buffer().capacity();

    ctx.reset();
    BOOST_TEST(ctx.target().empty());
    BOOST_TEST(ctx.body().empty());
    BOOST_TEST(ctx.args().size() == 0u);
    BOOST_TEST(ctx.user_value("v") == nullptr);
    BOOST_TEST(ctx.response().status() == 200u);
    BOOST_TEST(ctx.response().content_type().empty());
    BOOST_TEST(ctx.response().extra_headers().empty());
    BOOST_TEST(ctx.response().body().empty());
    BOOST_TEST(ctx.response().body_buffer().capacity() == cap);
}

BOOST_AUTO_TEST_CASE(reset_keeps_the_connection_facts) {
    // The worker sets these once per connection and resets the ctx between its requests.
    request_ctx ctx;
    ctx.set_remote("10.0.0.1", 4242);
    ctx.reset();
    BOOST_TEST(ctx.remote_ip() == "10.0.0.1");
    BOOST_TEST(ctx.remote_port() == 4242u);
}

BOOST_AUTO_TEST_CASE(response_shortcuts_write_the_response) {
    request_ctx ctx;
    ctx.set_status(201);
    ctx.set_content_type("application/json");
    ctx.add_header("Location", "/items/1");
    ctx.set_body("{");
    ctx.append_body("}");
    BOOST_TEST(ctx.response().status() == 201u);
    BOOST_TEST(ctx.response().content_type() == "application/json");
    BOOST_TEST(ctx.response().extra_headers() == "Location: /items/1\r\n");
    BOOST_TEST(ctx.response().body() == "{}");
    ctx.set_body_static("static");
    BOOST_TEST(ctx.response().body() == "static");
}

BOOST_AUTO_TEST_CASE(suspension_goes_through_the_executor) {
    fake_executor exec;
    request_ctx ctx;
    ctx.bind(&ctx.request(), {}, &exec);
    ctx.sleep(std::chrono::milliseconds(25));
    BOOST_TEST(exec.slept.count() == 25);
    int ran = 0;
    ctx.run_blocking([&] { ran = 42; });
    BOOST_TEST(ran == 42);
    BOOST_TEST(exec.blocking_calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()
