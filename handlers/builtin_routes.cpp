#include "handlers/builtin_routes.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "handlers/dashboard.hpp"
#include "handlers/status_access.hpp"
#include "http/status.hpp"
#include "shm/render.hpp"
#include "shm/segment.hpp"
#include "shm/snapshot.hpp"
#include "worker/server.hpp"

namespace fastfork::handlers {

namespace {
constexpr std::string_view hello = "Hello, World!";
constexpr std::string_view text_plain = "text/plain";
constexpr std::string_view application_json = "application/json";
constexpr unsigned max_sleep_ms = 600'000;

void sleep_route(http::request_ctx& ctx) {
    std::string_view text = ctx.arg("ms");
    unsigned ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || ms > max_sleep_ms) {
        ctx.set_status(400);
        ctx.set_content_type(text_plain);
        ctx.set_body_static("sleep: expected ?ms=N with N in 0..600000\n");
        return;
    }
    ctx.sleep(std::chrono::milliseconds(ms));
    char body[48];
    int n = std::snprintf(body, sizeof body, "slept %u ms\n", ms);
    ctx.set_content_type(text_plain);
    ctx.set_body(std::string_view(body, static_cast<std::size_t>(n)));
}

void healthz_route(http::request_ctx& ctx, const worker::server* srv) {
    ctx.set_content_type(application_json);
    ctx.add_trusted_header("Cache-Control", "no-store");
    // A load balancer outside status_allow learns that the worker is up, not its pid or load.
    if (!may_see_status(ctx)) {
        ctx.set_body_static("{\"status\":\"ok\"}\n");
        return;
    }
    char body[512];
    int n;
    if (srv) {
        const auto& c = srv->counters();
        n = std::snprintf(body, sizeof body,
                          "{\"status\":\"ok\",\"pid\":%d,\"worker\":%u,\"generation\":%llu,\"draining\":%s,"
                          "\"fibers_live\":%zu,\"fibers_idle\":%zu,\"connections_active\":%llu,\"requests\":%llu}\n",
                          static_cast<int>(::getpid()), srv->opts().slot,
                          static_cast<unsigned long long>(srv->opts().generation),
                          srv->is_draining() ? "true" : "false", srv->fibers().live(), srv->fibers().idle(),
                          static_cast<unsigned long long>(shm::get(c.connections_active)),
                          static_cast<unsigned long long>(shm::get(c.requests)));
    } else {
        n = std::snprintf(body, sizeof body, "{\"status\":\"ok\",\"pid\":%d}\n", static_cast<int>(::getpid()));
    }
    ctx.set_body(std::string_view(body, static_cast<std::size_t>(n)));
}

// The whole instance from the stats segment this worker inherited from its master; without a
// master (--single-process) there is none, and the snapshot holds this server's own counters.
shm::snapshot take_stats(const worker::server& srv) {
    if (const shm::segment_layout* seg = shm::current_segment())
        return shm::take_snapshot(*seg, shm::current_segment_name());
    return shm::take_local_snapshot(srv.counters(), srv.latency(), "single-process");
}

void metrics_route(http::request_ctx& ctx, const worker::server& srv) {
    ctx.set_content_type(shm::prometheus_content_type);
    ctx.add_trusted_header("Cache-Control", "no-store");
    ctx.set_body(shm::render_prometheus(take_stats(srv)));
}

void stats_route(http::request_ctx& ctx, const worker::server& srv) {
    ctx.set_content_type(application_json);
    ctx.add_trusted_header("Cache-Control", "no-store");
    ctx.set_body(shm::render_json(take_stats(srv)));
}

void plaintext_route(http::request_ctx& ctx) {
    ctx.set_content_type(text_plain);
    ctx.set_body_static(hello);
}

void json_route(http::request_ctx& ctx) {
    // Serialized per request on purpose: this is the JSON-serialization benchmark route.
    nlohmann::json j = {{"message", hello}};
    ctx.set_content_type(application_json);
    ctx.set_body(j.dump());
}

// Without a running server (a handler called outside a worker) there is nothing to report.
void no_server(http::request_ctx& ctx) {
    ctx.set_status(503);
    ctx.set_content_type(text_plain);
    ctx.set_body_static("503 no server is running in this process\n");
}

const builtin_route builtins[] = {
    {"plaintext", plaintext_route, builtin_access::everyone},
    {"json", json_route, builtin_access::everyone},
    {"sleep", sleep_route, builtin_access::everyone},
    {"healthz", [](http::request_ctx& ctx) { healthz_route(ctx, worker::server::current()); },
     builtin_access::everyone},
    {"metrics",
     [](http::request_ctx& ctx) {
         if (const worker::server* srv = worker::server::current())
             metrics_route(ctx, *srv);
         else
             no_server(ctx);
     },
     builtin_access::status},
    {"stats",
     [](http::request_ctx& ctx) {
         if (const worker::server* srv = worker::server::current())
             stats_route(ctx, *srv);
         else
             no_server(ctx);
     },
     builtin_access::status},
    // The same numbers as stats, to a browser.
    {"dashboard", dashboard_route, builtin_access::status},
};
}  // namespace

const builtin_route* find_builtin(std::string_view name) noexcept {
    for (const builtin_route& b : builtins)
        if (b.name == name) return &b;
    return nullptr;
}

}  // namespace fastfork::handlers
