#pragma once
// Path-prefix routing (worker): the table of the `routes` config key, or the default one, built
// once per worker process and matched per request without allocating. Longest prefix wins.
// The master uses check_route_spec to validate the config before anything forks.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/options.hpp"
#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// Answers a request routed to it. `rest` is the request path after the route's prefix: "" when
/// the path is the prefix itself, else it starts with '/' ("/static/a.css" under "/static/" →
/// "/a.css"; under "/" → the whole path). Returns false when it has nothing for that path (the
/// ctx untouched): the router then answers 404. Runs on the request's fiber; may suspend.
using route_fn = std::function<bool(http::request_ctx& ctx, std::string_view rest)>;

/// The names a route's `handler` field may take, in documentation order.
inline constexpr std::string_view builtin_handler_names[] = {
    "plaintext", "json", "sleep", "healthz", "metrics", "stats", "dashboard", "welcome", "echo", "sse_clock", "ws_echo"};

/// Why `spec` is not a usable route, naming the field (`field "handler": unknown handler …`);
/// empty when it is. A prefix starts with '/' and has no query, fragment, whitespace or control
/// characters; exactly one of `handler` (a builtin_handler_names entry) and `root` (non-empty).
[[nodiscard]] std::string check_route_spec(const route_spec& spec);

/// The prefix as the router compares it: trailing slashes dropped ("/static/" → "/static",
/// "/" → ""). Two routes with the same normalized prefix are the same route.
[[nodiscard]] std::string_view normalized_prefix(std::string_view prefix) noexcept;

/// A path-prefix table. Matching is per path segment: prefix "/static" (or "/static/") matches
/// "/static" and "/static/…" but not "/statics"; "/" matches every path. Comparison is on the
/// path as received (still percent-encoded) and case-sensitive.
class router {
public:
    /// Routes `prefix` (which passed check_route_spec) to `fn`. Returns false, changing nothing,
    /// when the normalized prefix is routed already.
    /// `streams_body`: the route reads request bodies itself (ctx.body_stream()), so the worker
    /// reads nothing of them before it runs (see streams_body()).
    bool add(std::string_view prefix, route_fn fn, bool streams_body = false);
    /// Whether the route that matches `path` streams its request body.
    [[nodiscard]] bool streams_body(std::string_view path) const noexcept;

    /// The route with the longest prefix matching `path`, or nullptr; sets `rest` (see route_fn).
    /// Never allocates. The pointer lives as long as the router is not modified.
    [[nodiscard]] const route_fn* match(std::string_view path, std::string_view& rest) const noexcept;

    /// Routes ctx.path(); answers 404 when no route matches or the matching one declines.
    void operator()(http::request_ctx& ctx) const;

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    struct entry {
        std::string prefix;  // normalized
        route_fn fn;
        bool streams_body = false;
    };
    std::vector<entry> entries_;  // longest prefix first, so the first match is the longest
};

/// The pieces of a route table that live outside the built-ins (static files, the welcome page),
/// supplied by the program that composes the server (`fastfork`'s main.cpp).
struct route_factories {
    /// Makes the handler of a static route (`spec.root` non-empty): files under spec.root for
    /// the `rest` of the path. May throw (a root that cannot be opened): the build fails.
    std::function<route_fn(const route_spec& spec, const options& opts)> static_root;
    /// The welcome page (handler "welcome"); empty = a one-line built-in text page on "/".
    route_fn welcome;
    /// The root served at "/" when `routes` is not configured; "" = the welcome page instead.
    std::function<std::string(const options& opts)> default_root;
};

/// The table used when options::routes is empty: the built-ins at /plaintext, /json, /sleep,
/// /healthz, metrics_path, stats_path and dashboard_path (when not ""), then "/" → `root`, or the welcome page
/// when `root` is "". A path already taken is not routed twice (the first one keeps it).
[[nodiscard]] std::vector<route_spec> default_routes(const options& opts, const std::string& root);

/// Builds the router for `specs` (already checked). Throws std::runtime_error naming the route
/// ("route 2 (\"/static/\"): …") when a static root has no factory, or when two routes have the
/// same prefix. A static root whose factory throws (a root removed after start) is logged and
/// answers 500 on its own prefix only, so every other route keeps working.
[[nodiscard]] router build_router(const std::vector<route_spec>& specs,
                                  const route_factories& factories,
                                  const options& opts);

/// The `fastfork` binary's handler. Its table depends on the configuration of the worker that
/// runs it, which a reload changes, so it is built in each process on its first request, from
/// features::current() (defaults when no features are attached): opts.routes, or default_routes with
/// factories.default_root. Copies share the table. If the build throws, that request fails (500,
/// logged) and the next one tries again.
/// The factories of the `fastfork` binary: static roots served by file_server, the welcome
/// page, and ./public as the default root when it exists.
[[nodiscard]] route_factories standard_route_factories();

class routed_handler {
public:
    explicit routed_handler(route_factories factories);
    void operator()(http::request_ctx& ctx) const;
    /// Whether the route of `req` streams its request body: the worker's stream hook
    /// (features::attach installs it). Builds the table like operator(); false if that fails.
    [[nodiscard]] bool streams_body(const http::request& req) const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace fastfork::handlers
