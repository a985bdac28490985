#include "handlers/router.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "handlers/builtin_routes.hpp"
#include "handlers/features.hpp"
#include "handlers/file_server.hpp"
#include "handlers/status_access.hpp"
#include "handlers/welcome_page.hpp"
#include "handlers/ws_echo_route.hpp"
#include "http/status.hpp"
#include "worker/log.hpp"

namespace fastfork::handlers {

namespace {

constexpr std::string_view plain_welcome =
    "fastfork is running.\n"
    "Serve files with --root DIR (or a ./public directory), or map paths with the \"routes\" config key.\n";

bool is_known_handler(std::string_view name) noexcept {
    return std::find(std::begin(builtin_handler_names), std::end(builtin_handler_names), name) !=
           std::end(builtin_handler_names);
}

std::string known_handlers_text() {
    std::string out;
    for (std::string_view n : builtin_handler_names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    return out;
}

// Built-ins are endpoints, not trees: "/healthz/x" under a "/healthz" route is a 404. A status
// route answers only the peers of opts.status_allow (403 to the others, before it reads shm).
route_fn mount_builtin(const builtin_route& b, const options& opts) {
    builtin_fn fn = b.fn;
    if (b.access == builtin_access::status)
        return [fn, allow = opts.status_allow](http::request_ctx& ctx, std::string_view rest) {
            if (!rest.empty()) return false;
            if (may_see_status(ctx, allow))
                fn(ctx);
            else
                refuse_status(ctx);
            return true;
        };
    return [fn](http::request_ctx& ctx, std::string_view rest) {
        if (!rest.empty()) return false;
        fn(ctx);
        return true;
    };
}

std::string describe(std::size_t index, const route_spec& spec) {
    return "route " + std::to_string(index) + " (\"" + spec.prefix + "\")";
}

}  // namespace

std::string check_route_spec(const route_spec& spec) {
    const std::string_view p = spec.prefix;
    if (p.empty() || p.front() != '/') return "field \"prefix\": expected a path starting with \"/\"";
    for (char c : p) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '?' || c == '#' || u <= 0x20 || u == 0x7f)
            return "field \"prefix\": expected a path without query, fragment, spaces or control characters";
    }
    if (spec.handler.empty() == spec.root.empty())
        return spec.handler.empty() ? "expected a \"handler\" or a \"root\" field"
                                    : "expected only one of the fields \"handler\" and \"root\"";
    if (!spec.handler.empty() && !is_known_handler(spec.handler))
        return "field \"handler\": unknown handler \"" + spec.handler + "\" (expected one of " + known_handlers_text() +
               ")";
    if ((!spec.origins.empty() || !spec.subprotocols.empty()) && spec.handler != "ws_echo")
        return std::string("field \"") + (spec.origins.empty() ? "subprotocols" : "origins") +
               "\": only for a WebSocket route (handler \"ws_echo\")";
    return {};
}

std::string_view normalized_prefix(std::string_view prefix) noexcept {
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    return prefix;
}

// ---------------------------------------------------------------- router

bool router::add(std::string_view prefix, route_fn fn, bool streams_body) {
    const std::string_view p = normalized_prefix(prefix);
    for (const auto& e : entries_)
        if (e.prefix == p) return false;
    // Longest first; among equal lengths the order does not matter (they cannot both match).
    auto at =
        std::find_if(entries_.begin(), entries_.end(), [&](const entry& e) { return e.prefix.size() < p.size(); });
    entries_.insert(at, entry{std::string(p), std::move(fn), streams_body});
    return true;
}

bool router::streams_body(std::string_view path) const noexcept {
    std::string_view rest;
    const route_fn* fn = match(path, rest);
    if (!fn) return false;
    // match() returns the entry's fn: its entry is the one holding it.
    for (const auto& e : entries_)
        if (&e.fn == fn) return e.streams_body;
    return false;
}

const route_fn* router::match(std::string_view path, std::string_view& rest) const noexcept {
    // Authority- and asterisk-form targets have no path: no route serves them.
    if (path.empty() || path.front() != '/') return nullptr;
    for (const auto& e : entries_) {
        const std::size_t n = e.prefix.size();
        if (path.size() < n || path.compare(0, n, e.prefix) != 0) continue;
        if (path.size() > n && path[n] != '/') continue;  // "/statics" is not under "/static"
        rest = path.substr(n);
        return &e.fn;
    }
    return nullptr;
}

void router::operator()(http::request_ctx& ctx) const {
    std::string_view rest;
    if (const route_fn* fn = match(ctx.path(), rest); fn && (*fn)(ctx, rest)) return;
    ctx.set_status(404);
    ctx.set_content_type("text/plain");
    ctx.set_body_static(http::status_body(404));
}

// ---------------------------------------------------------------- building

std::vector<route_spec> default_routes(const options& opts, const std::string& root) {
    std::vector<route_spec> out;
    auto add = [&](std::string_view prefix, std::string_view name, std::string_view dir) {
        for (const auto& r : out)
            if (normalized_prefix(r.prefix) == normalized_prefix(prefix)) return;
        out.push_back(route_spec{std::string(prefix), std::string(name), std::string(dir)});
    };
    add("/plaintext", "plaintext", {});
    add("/json", "json", {});
    add("/sleep", "sleep", {});
    add("/healthz", "healthz", {});
    if (!opts.metrics_path.empty()) add(opts.metrics_path, "metrics", {});
    if (!opts.stats_path.empty()) add(opts.stats_path, "stats", {});
    if (!opts.dashboard_path.empty()) add(opts.dashboard_path, "dashboard", {});
    if (root.empty())
        add("/", "welcome", {});
    else
        add("/", {}, root);
    return out;
}

router build_router(const std::vector<route_spec>& specs, const route_factories& factories, const options& opts) {
    router r;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const route_spec& spec = specs[i];
        route_fn fn;
        if (!spec.root.empty()) {
            if (!factories.static_root)
                throw std::runtime_error(describe(i, spec) + ": static roots are not available");
            try {
                fn = factories.static_root(spec, opts);
            } catch (const std::exception& e) {
                // A root that vanished after --check-config must not take the other routes
                // (/healthz, /metrics) down with it: only this prefix answers 500.
                FF_LOG_ERROR("%s: %s; it answers 500", describe(i, spec).c_str(), e.what());
                fn = [](http::request_ctx& ctx, std::string_view) {
                    ctx.set_status(500);
                    ctx.set_content_type("text/plain");
                    ctx.set_body_static(http::status_body(500));
                    return true;
                };
            }
        } else if (spec.handler == "welcome") {
            fn = factories.welcome ? factories.welcome : route_fn([](http::request_ctx& ctx, std::string_view rest) {
                if (rest != "" && rest != "/") return false;
                ctx.set_content_type("text/plain; charset=utf-8");
                ctx.set_body_static(plain_welcome);
                return true;
            });
        } else if (spec.handler == "ws_echo") {
            fn = make_ws_echo_route(spec);
        } else if (const builtin_route* b = find_builtin(spec.handler)) {
            fn = mount_builtin(*b, opts);
        } else {
            throw std::runtime_error(describe(i, spec) + ": unknown handler \"" + spec.handler + "\"");
        }
        if (!r.add(spec.prefix, std::move(fn), spec.root.empty() && builtin_streams_body(spec.handler)))
            throw std::runtime_error(describe(i, spec) + ": the prefix is routed twice");
    }
    return r;
}

// ---------------------------------------------------------------- the binary's handler

struct routed_handler::state {
    route_factories factories;
    std::optional<router> table;

    void build() {
        const options& opts = features::current();
        if (!opts.routes.empty()) {
            table = build_router(opts.routes, factories, opts);
            return;
        }
        const std::string root = factories.default_root ? factories.default_root(opts) : std::string();
        table = build_router(default_routes(opts, root), factories, opts);
    }
};

routed_handler::routed_handler(route_factories factories) : state_(std::make_shared<state>()) {
    state_->factories = std::move(factories);
}

void routed_handler::operator()(http::request_ctx& ctx) const {
    if (!state_->table) state_->build();
    (*state_->table)(ctx);
}

bool routed_handler::streams_body(const http::request& req) const noexcept {
    try {
        if (!state_->table) state_->build();
    } catch (const std::exception&) {
        return false;  // the handler reports it (operator() builds again)
    }
    return state_->table->streams_body(req.path);
}

route_factories standard_route_factories() {
    route_factories f;
    f.static_root = [](const route_spec& spec, const options& opts) -> route_fn {
        auto files = std::make_shared<file_server>(spec.root, opts);
        return [files](http::request_ctx& ctx, std::string_view rest) { return files->try_serve(ctx, rest); };
    };
    f.welcome = welcome_page;
    f.default_root = default_document_root;
    return f;
}

}  // namespace fastfork::handlers
