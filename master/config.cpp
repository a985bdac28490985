#include "master/config.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "handlers/router.hpp"
#include "master/privileges.hpp"
#include "master/tls_config.hpp"
#include "master/units.hpp"
#include "worker/listener.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

namespace {

std::string parse_count(std::string_view v, std::uint64_t& out, std::uint64_t min, std::uint64_t max) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return "expected a whole number";
    if (n < min || n > max) return "expected a number from " + std::to_string(min) + " to " + std::to_string(max);
    out = n;
    return {};
}

template <class T>
std::string set_count(T& field, std::string_view v, std::uint64_t min, std::uint64_t max) {
    std::uint64_t n;
    if (auto e = parse_count(v, n, min, max); !e.empty()) return e;
    field = static_cast<T>(n);
    return {};
}

std::string set_duration(worker::millis& field, std::string_view v) {
    auto d = parse_duration(v);
    if (!d) return "expected a duration like \"30s\", \"250ms\", \"2m\"";
    field = *d;
    return {};
}

template <class T>
std::string set_size(T& field, std::string_view v, std::uint64_t min, std::uint64_t max) {
    auto s = parse_size(v);
    if (!s) return "expected a size like \"4MiB\", \"8m\", \"512k\", \"512\"";
    if (*s < min || *s > max)
        return "expected a size from " + std::to_string(min) + " to " + std::to_string(max) + " bytes";
    field = static_cast<T>(*s);
    return {};
}

std::string set_bool(bool& field, std::string_view v) {
    if (v == "true" || v == "on" || v == "1") {
        field = true;
    } else if (v == "false" || v == "off" || v == "0") {
        field = false;
    } else {
        return "expected true or false";
    }
    return {};
}

// A built-in route's path: empty (off) or an origin-form path without query or fragment.
std::string set_route_path(std::string& field, std::string_view v) {
    if (!v.empty() && (v.front() != '/' || v.find_first_of("?# \t") != std::string_view::npos))
        return "expected a path starting with \"/\" (no query), or \"\" for off";
    field = v;
    return {};
}

// One route from the array form ({"prefix": …, "handler" | "root": …}) or the object form
// ("prefix": "handler" or "prefix": {"handler" | "root": …}); `name` says which for messages.
std::string parse_route(const std::string& name,
                        const nlohmann::json& entry,
                        const std::string* key_prefix,
                        handlers::route_spec& out) {
    if (key_prefix) {
        out.prefix = *key_prefix;
        if (entry.is_string()) {
            out.handler = entry.get<std::string>();
        } else if (!entry.is_object()) {
            return name + ": expected a handler name or an object like {\"root\": \"./public\"}";
        }
    } else if (!entry.is_object()) {
        return name + ": expected an object like {\"prefix\": \"/\", \"root\": \"./public\"}";
    }
    if (entry.is_object()) {
        bool has_prefix = false;
        for (const auto& [field, value] : entry.items()) {
            if (field == "origins" || field == "subprotocols") {  // WebSocket routes (ws_echo)
                auto& list = field == "origins" ? out.origins : out.subprotocols;
                if (!value.is_array()) return name + ": field \"" + field + "\": expected an array of strings";
                for (const auto& item : value) {
                    if (!item.is_string() || item.get<std::string>().empty())
                        return name + ": field \"" + field + "\": expected an array of non-empty strings";
                    list.push_back(item.get<std::string>());
                }
                continue;
            }
            std::string* into = field == "handler" ? &out.handler : field == "root" ? &out.root : nullptr;
            if (field == "prefix" && !key_prefix) {
                into = &out.prefix;
                has_prefix = true;
            }
            if (!into)
                return name + ": unknown field \"" + field + "\" (expected " +
                       (key_prefix ? "handler, root, origins or subprotocols"
                                   : "prefix, handler, root, origins or subprotocols") +
                       ")";
            if (!value.is_string()) return name + ": field \"" + field + "\": expected a string";
            *into = value.get<std::string>();
        }
        if (!key_prefix && !has_prefix) return name + ": missing field \"prefix\"";
    }
    if (std::string why = handlers::check_route_spec(out); !why.empty()) {
        if (out.handler.find('/') != std::string::npos)
            why += "; a directory is given as {\"root\": \"" + out.handler + "\"}";
        return name + ": " + why;
    }
    return {};
}

std::string set_routes(config& c, std::string_view v) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(v);
    } catch (const nlohmann::json::parse_error& e) {
        std::string what = e.what();
        if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
        return "invalid JSON: " + what;
    }
    std::vector<handlers::route_spec> routes;
    std::vector<std::string> names;
    if (doc.is_array()) {
        for (std::size_t i = 0; i < doc.size(); ++i) {
            names.push_back("route " + std::to_string(i));
            routes.emplace_back();
            if (auto e = parse_route(names.back(), doc[i], nullptr, routes.back()); !e.empty()) return e;
        }
    } else if (doc.is_object()) {
        for (const auto& [prefix, entry] : doc.items()) {
            names.push_back("route \"" + prefix + "\"");
            routes.emplace_back();
            if (auto e = parse_route(names.back(), entry, &prefix, routes.back()); !e.empty()) return e;
        }
    } else {
        return "expected an array of routes ([{\"prefix\": \"/\", \"root\": \"./public\"}, …]) or an object "
               "mapping prefixes to handlers";
    }
    if (routes.empty()) return "expected at least one route (leave \"routes\" out for the defaults)";
    for (std::size_t i = 0; i < routes.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (handlers::normalized_prefix(routes[i].prefix) == handlers::normalized_prefix(routes[j].prefix))
                return names[i] + ": field \"prefix\": \"" + routes[i].prefix + "\" is routed already by " + names[j];
    c.handlers.routes = std::move(routes);
    return {};
}

std::string set_listen(config& c, std::string_view v) {
    // The file reader passes an array as JSON (entries may be {"address", "tls"} objects); a
    // flag or JSON string may hold several addresses separated by commas.
    // "[::1]:8080" starts like an array but is no JSON.
    if (!v.empty() && v[0] == '[' && nlohmann::json::accept(v)) return parse_listen_json(c, v);
    std::vector<std::string> out;
    while (!v.empty()) {
        auto comma = v.find(',');
        std::string_view one = v.substr(0, comma);
        worker::listen_address a;
        std::string err;
        if (!worker::try_parse_listen_address(one, a, err)) return err;
        out.emplace_back(one);
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
    if (out.empty()) return "expected at least one address";
    c.listen = std::move(out);
    c.listen_tls.clear();
    return {};
}

// A list of addresses and CIDR blocks, or "all": comma-separated from a flag, joined from a JSON
// array by the file reader. "" (or []) is nobody. Parsed here, once, into the compact form that
// workers match per request.
std::string set_address_list(http::address_list& field, std::string_view v) {
    http::address_list out;
    std::size_t index = 0;
    while (!v.empty()) {
        const auto comma = v.find(',');
        std::string_view one = v.substr(0, comma);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (std::string why = out.try_add(one); !why.empty())
            return "entry " + std::to_string(index) + " \"" + std::string(one) + "\": " + why;
        ++index;
        v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
    field = std::move(out);
    return {};
}

std::string show_string(const std::string& s) {
    return nlohmann::json(s).dump();
}

std::string show_list(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return show_string(out);
}

std::string show_bool(bool b) {
    return b ? "true" : "false";
}

std::string show_duration(worker::millis d) {
    return show_string(format_duration(d));
}

std::string show_size(std::uint64_t bytes) {
    std::string s = format_size(bytes);
    return s.find_first_not_of("0123456789") == std::string::npos ? s : show_string(s);
}

const std::vector<setting> all_settings = {
    {"listen", "list", [](const config& c) -> std::string { return show_list(c.listen); },
     "addresses to listen on: \"host:port\", \"[::1]:port\", \":port\"; or {\"address\": …, \"tls\": "
     "{\"certificate\": …, \"key\": …}} for HTTPS",
     set_listen},
    {"tls", "json", show_tls,
     "what every TLS listener shares: {\"ticket_key_rotation\": \"12h\", \"ticket_key_files\": […], "
     "\"session_cache\": false}",
     parse_tls_json},
    {"workers", "auto|count",
     [](const config& c) -> std::string {
         return c.workers == 0 ? std::string("\"auto\"") : std::to_string(c.workers);
     },
     "worker processes; \"auto\" = one per online CPU",
     [](config& c, std::string_view v) -> std::string {
         if (v == "auto") {
             c.workers = 0;
             return {};
         }
         return set_count(c.workers, v, 1, 1024);
     }},
    {"cpu_affinity", "auto|off",
     [](const config& c) -> std::string { return std::string(c.cpu_affinity ? "\"auto\"" : "\"off\""); },
     "\"auto\" pins worker slot i to CPU i mod CPUs",
     [](config& c, std::string_view v) -> std::string {
         if (v == "auto") {
             c.cpu_affinity = true;
         } else if (v == "off" || v == "false") {
             c.cpu_affinity = false;
         } else {
             return "expected \"auto\" or \"off\"";
         }
         return {};
     }},
    {"name", "string",
     [](const config& c) -> std::string {
         return c.name.empty() ? std::string("the first listen port") : show_string(c.name);
     },
     "instance name: the stats segment is /dev/shm/fastfork.<name>",
     [](config& c, std::string_view v) -> std::string {
         if (v.empty() || v.size() > 64 || !std::all_of(v.begin(), v.end(), [](char ch) {
                 return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
             }))
             return "expected 1-64 characters of [A-Za-z0-9._-]";
         c.name = v;
         return {};
     }},
    {"user", "string",
     [](const config& c) -> std::string { return c.user.empty() ? "the master's" : show_string(c.user); },
     "user (name or uid) the workers run as; a master started as root binds first, then each worker drops to it; "
     "as root without it, workers stay root (a warning is logged)",
     [](config& c, std::string_view v) -> std::string {
         std::string name(v);
         unsigned long id = 0;
         auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
         bool numeric = !name.empty() && ec == std::errc() && end == name.data() + name.size();
         if (!numeric && ::getpwnam(name.c_str()) == nullptr) return "no such user";
         c.user = std::move(name);
         return {};
     }},
    {"group", "string",
     [](const config& c) -> std::string { return c.group.empty() ? "user's group" : show_string(c.group); },
     "group (name or gid) the workers run as; default: the primary group of \"user\"",
     [](config& c, std::string_view v) -> std::string {
         std::string name(v);
         unsigned long id = 0;
         auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
         bool numeric = !name.empty() && ec == std::errc() && end == name.data() + name.size();
         if (!numeric && ::getgrnam(name.c_str()) == nullptr) return "no such group";
         c.group = std::move(name);
         return {};
     }},
    {"pid_file", "string",
     [](const config& c) -> std::string { return c.pid_file.empty() ? std::string("none") : show_string(c.pid_file); },
     "file the master writes its pid to (removed at exit)",
     [](config& c, std::string_view v) -> std::string {
         c.pid_file = v;
         return {};
     }},
    {"upgrade_binary", "string",
     [](const config& c) -> std::string {
         return c.upgrade_binary.empty() ? std::string("the running binary") : show_string(c.upgrade_binary);
     },
     "program SIGUSR2 (fastforkctl upgrade) starts as the new master, with the same arguments",
     [](config& c, std::string_view v) -> std::string {
         c.upgrade_binary = v;
         return {};
     }},
    {"error_log", "string",
     [](const config& c) -> std::string {
         return c.error_log.empty() ? std::string("stderr") : show_string(c.error_log);
     },
     "file for the error log (reopened on SIGUSR1)",
     [](config& c, std::string_view v) -> std::string {
         c.error_log = v;
         return {};
     }},
    {"log_level", "string", [](const config& c) -> std::string { return show_string(c.log_level); },
     "alert, error, warn, info or debug",
     [](config& c, std::string_view v) -> std::string {
         worker::log_level level;
         if (!worker::try_parse_log_level(v, level)) return "expected alert, error, warn, info or debug";
         c.log_level = v;
         return {};
     }},
    {"backlog", "count", [](const config& c) -> std::string { return std::to_string(c.backlog); },
     "listen(2) backlog of each socket",
     [](config& c, std::string_view v) { return set_count(c.backlog, v, 1, 65535); }},
    {"shutdown_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.shutdown_timeout); },
     "graceful shutdown / drain deadline, then workers are killed",
     [](config& c, std::string_view v) { return set_duration(c.shutdown_timeout, v); }},
    {"worker_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.worker_timeout); },
     "a worker whose heartbeat stalls this long is killed and replaced",
     [](config& c, std::string_view v) { return set_duration(c.worker_timeout, v); }},
    {"reuseport_steering", "bool", [](const config& c) -> std::string { return show_bool(c.reuseport_steering); },
     "steer new connections away from a worker whose heartbeat is late (SK_REUSEPORT BPF; needs root or "
     "CAP_BPF + CAP_NET_ADMIN, else a warning and the kernel's hash)",
     [](config& c, std::string_view v) { return set_bool(c.reuseport_steering, v); }},
    {"reload_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.reload_timeout); },
     "a new generation must be ready within this, else the reload rolls back",
     [](config& c, std::string_view v) { return set_duration(c.reload_timeout, v); }},
    {"max_requests", "count", [](const config& c) -> std::string { return std::to_string(c.max_requests); },
     "requests one worker process serves, then a replacement starts and, once it is ready, the old one "
     "drains (gunicorn's max_requests); 0 = never",
     [](config& c, std::string_view v) { return set_count(c.max_requests, v, 0, ~0ull); }},
    {"max_requests_jitter", "count",
     [](const config& c) -> std::string { return std::to_string(c.max_requests_jitter); },
     "each worker process's max_requests is drawn from [max_requests, max_requests + this], so workers "
     "do not recycle all at once",
     [](config& c, std::string_view v) { return set_count(c.max_requests_jitter, v, 0, 1ull << 40); }},
    {"max_worker_memory", "size",
     [](const config& c) -> std::string { return c.max_worker_memory == 0 ? "0" : show_size(c.max_worker_memory); },
     "resident memory (RSS) of one worker process, then it is recycled like max_requests; 0 = no limit",
     [](config& c, std::string_view v) { return set_size(c.max_worker_memory, v, 0, 1ull << 50); }},
    {"max_worker_age", "duration",
     [](const config& c) -> std::string {
         return c.max_worker_age.count() == 0 ? std::string("0") : show_duration(c.max_worker_age);
     },
     "age of one worker process, then it is recycled like max_requests; 0 = no limit",
     [](config& c, std::string_view v) { return set_duration(c.max_worker_age, v); }},
    {"concurrency", "count", [](const config& c) -> std::string { return std::to_string(c.worker.concurrency); },
     "fibers per worker at most; a request that finds none gets 503",
     [](config& c, std::string_view v) { return set_count(c.worker.concurrency, v, 1, 1u << 24); }},
    {"stack_size", "size", [](const config& c) -> std::string { return show_size(c.worker.stack_size); },
     "stack per fiber (plus a guard page)",
     [](config& c, std::string_view v) { return set_size(c.worker.stack_size, v, 16 * 1024, 64u << 20); }},
    {"max_idle_worker_duration", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.max_idle_worker_duration); },
     "an idle fiber, pooled buffer or exchange, or free connection slab unused this long is freed",
     [](config& c, std::string_view v) { return set_duration(c.worker.max_idle_worker_duration, v); }},
    {"pool_max_idle_count", "count",
     [](const config& c) -> std::string { return std::to_string(c.worker.pool_max_idle_count); },
     "idle buffers, and idle exchanges, a worker keeps at most (each); more are freed",
     [](config& c, std::string_view v) { return set_count(c.worker.pool_max_idle_count, v, 0, 1u << 20); }},
    {"pool_max_idle_bytes", "size",
     [](const config& c) -> std::string { return show_size(c.worker.pool_max_idle_bytes); },
     "memory in idle buffers, and in idle exchanges, a worker keeps at most (each); more is freed",
     [](config& c, std::string_view v) { return set_size(c.worker.pool_max_idle_bytes, v, 0, 1ull << 40); }},
    {"max_connections", "count",
     [](const config& c) -> std::string { return std::to_string(c.worker.max_connections); },
     "open connections per worker; beyond it: 503 and close",
     [](config& c, std::string_view v) { return set_count(c.worker.max_connections, v, 1, 1u << 24); }},
    {"max_conns_per_ip", "count",
     [](const config& c) -> std::string { return std::to_string(c.worker.max_conns_per_ip); },
     "open connections per client IP (IPv6: per /64) per worker; 0 = unlimited; beyond: 429",
     [](config& c, std::string_view v) { return set_count(c.worker.max_conns_per_ip, v, 0, 1u << 24); }},
    {"max_requests_per_conn", "count",
     [](const config& c) -> std::string { return std::to_string(c.worker.max_requests_per_conn); },
     "requests on one connection, then Connection: close; 0 = unlimited",
     [](config& c, std::string_view v) { return set_count(c.worker.max_requests_per_conn, v, 0, ~0ull); }},
    {"header_timeout", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.header_timeout); },
     "accept (later requests: their first byte) to the end of the request head; then 408 and close",
     [](config& c, std::string_view v) { return set_duration(c.worker.header_timeout, v); }},
    {"read_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.worker.read_timeout); },
     "longest gap while reading a body; then 408 and close",
     [](config& c, std::string_view v) { return set_duration(c.worker.read_timeout, v); }},
    {"write_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.worker.write_timeout); },
     "longest a write may make no progress; then close",
     [](config& c, std::string_view v) { return set_duration(c.worker.write_timeout, v); }},
    {"idle_timeout", "duration", [](const config& c) -> std::string { return show_duration(c.worker.idle_timeout); },
     "keep-alive connection with nothing in flight; then close",
     [](config& c, std::string_view v) { return set_duration(c.worker.idle_timeout, v); }},
    {"websocket_ping_interval", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.websocket.ping_interval); },
     "a WebSocket silent this long gets a ping; no answer within another interval: closed; 0 = no pings",
     [](config& c, std::string_view v) { return set_duration(c.worker.websocket.ping_interval, v); }},
    {"websocket_idle_timeout", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.websocket.idle_timeout); },
     "a WebSocket that sends no message this long is closed (1000); 0 = never",
     [](config& c, std::string_view v) { return set_duration(c.worker.websocket.idle_timeout, v); }},
    {"websocket_max_message", "size",
     [](const config& c) -> std::string { return show_size(c.worker.websocket.max_message); },
     "largest WebSocket message, after inflating; larger: close 1009",
     [](config& c, std::string_view v) { return set_size(c.worker.websocket.max_message, v, 0, 1ull << 32); }},
    {"websocket_deflate", "bool", [](const config& c) -> std::string { return show_bool(c.worker.websocket.deflate); },
     "negotiate permessage-deflate (RFC 7692) with WebSocket clients that offer it",
     [](config& c, std::string_view v) { return set_bool(c.worker.websocket.deflate, v); }},
    {"linger_timeout", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.linger_timeout); },
     "after our FIN, how long unread input is drained before close",
     [](config& c, std::string_view v) { return set_duration(c.worker.linger_timeout, v); }},
    {"drain_idle_grace", "duration",
     [](const config& c) -> std::string { return show_duration(c.worker.drain_idle_grace); },
     "while draining, idle keep-alive connections older than this are closed",
     [](config& c, std::string_view v) { return set_duration(c.worker.drain_idle_grace, v); }},
    {"max_request_line", "size",
     [](const config& c) -> std::string { return show_size(c.worker.limits.max_request_line); },
     "longest request line; longer: 414",
     [](config& c, std::string_view v) { return set_size(c.worker.limits.max_request_line, v, 64, 1u << 20); }},
    {"max_head", "size", [](const config& c) -> std::string { return show_size(c.worker.limits.max_head); },
     "longest request head; longer: 431",
     [](config& c, std::string_view v) { return set_size(c.worker.limits.max_head, v, 256, 1u << 20); }},
    {"max_headers", "count", [](const config& c) -> std::string { return std::to_string(c.worker.limits.max_headers); },
     "most header fields; more: 431",
     [](config& c, std::string_view v) { return set_count(c.worker.limits.max_headers, v, 1, http::header_capacity); }},
    {"max_body", "size", [](const config& c) -> std::string { return show_size(c.worker.limits.max_body); },
     "largest request body; larger: 413",
     [](config& c, std::string_view v) { return set_size(c.worker.limits.max_body, v, 0, 1ull << 40); }},
    {"normalize_header_names", "bool",
     [](const config& c) -> std::string { return show_bool(c.worker.normalize_header_names); },
     "rewrite header names to Canonical-Case as they are parsed",
     [](config& c, std::string_view v) { return set_bool(c.worker.normalize_header_names, v); }},
    {"server_name", "string", [](const config& c) -> std::string { return show_string(c.worker.server_name); },
     "the Server header; \"\" = not sent",
     [](config& c, std::string_view v) -> std::string {
         c.worker.server_name = v;
         return {};
     }},
    {"metrics_path", "string", [](const config& c) -> std::string { return show_string(c.handlers.metrics_path); },
     "path of the built-in Prometheus metrics route; \"\" = off",
     [](config& c, std::string_view v) { return set_route_path(c.handlers.metrics_path, v); }},
    {"stats_path", "string", [](const config& c) -> std::string { return show_string(c.handlers.stats_path); },
     "path of the built-in JSON stats route; \"\" = off",
     [](config& c, std::string_view v) { return set_route_path(c.handlers.stats_path, v); }},
    {"dashboard_path", "string", [](const config& c) -> std::string { return show_string(c.handlers.dashboard_path); },
     "path of the built-in live dashboard (an HTML page polling stats_path); \"\" = off",
     [](config& c, std::string_view v) { return set_route_path(c.handlers.dashboard_path, v); }},
    {"status_allow", "list",
     [](const config& c) -> std::string { return nlohmann::json(c.handlers.status_allow.entries()).dump(); },
     "who may see the status routes (metrics_path, stats_path, dashboard_path, the welcome page's live table; /healthz "
     "answers others only {\"status\":\"ok\"}): addresses and CIDR blocks, IPv4 or IPv6; \"all\" = everyone, "
     "[] = nobody; others get 403",
     [](config& c, std::string_view v) { return set_address_list(c.handlers.status_allow, v); }},
    {"root", "string",
     [](const config& c) -> std::string {
         return c.handlers.root.empty() ? std::string("\"./public\" if it exists") : show_string(c.handlers.root);
     },
     "directory of static files served at /; without one, a welcome page",
     [](config& c, std::string_view v) -> std::string {
         if (v.find('\0') != std::string_view::npos) return "expected a directory path";
         c.handlers.root = v;
         return {};
     }},
    {"autoindex", "bool", [](const config& c) -> std::string { return show_bool(c.handlers.autoindex); },
     "list a directory without index.html (else 403)",
     [](config& c, std::string_view v) { return set_bool(c.handlers.autoindex, v); }},
    {"follow_symlinks", "bool", [](const config& c) -> std::string { return show_bool(c.handlers.follow_symlinks); },
     "\"off\": refuse (403) a file whose real path is outside root; \"on\": follow any symlink",
     [](config& c, std::string_view v) { return set_bool(c.handlers.follow_symlinks, v); }},
    {"precompressed", "bool", [](const config& c) -> std::string { return show_bool(c.handlers.precompressed); },
     "serve file.br / file.gz (not older than file) to clients that accept br / gzip",
     [](config& c, std::string_view v) { return set_bool(c.handlers.precompressed, v); }},
    {"open_file_cache_size", "count",
     [](const config& c) -> std::string { return std::to_string(c.handlers.open_file_cache_size); },
     "open files and their metadata cached per worker; 0 = no cache",
     [](config& c, std::string_view v) { return set_count(c.handlers.open_file_cache_size, v, 0, 1u << 20); }},
    {"open_file_cache_ttl", "duration",
     [](const config& c) -> std::string { return show_duration(c.handlers.open_file_cache_ttl); },
     "a cached file is checked on disk again after this",
     [](config& c, std::string_view v) { return set_duration(c.handlers.open_file_cache_ttl, v); }},
    {"routes", "json",
     [](const config& c) -> std::
                             string {
                                 return c.handlers.routes.empty()
                                            ? std::string("built-ins + root")
                                            : std::to_string(c.handlers.routes.size()) + " routes";
                             },
     "path prefix → handler, longest prefix wins: [{\"prefix\": \"/static/\", \"root\": \"/srv/www\"}, "
     "{\"prefix\": \"/plaintext\", \"handler\": \"plaintext\"}]; handlers: plaintext, json, sleep, healthz, "
     "metrics, stats, dashboard, welcome, ws_echo (a WebSocket echo; fields \"origins\" and \"subprotocols\")",
     set_routes},
    {"access_log", "string",
     [](const config& c) -> std::string {
         return c.handlers.access_log.empty() ? std::string("\"\" (off)") : show_string(c.handlers.access_log);
     },
     "file for the access log, one line per request (reopened on SIGUSR1)",
     [](config& c, std::string_view v) -> std::string {
         if (v.find('\0') != std::string_view::npos) return "expected a file path";
         c.handlers.access_log = v;
         return {};
     }},
    {"access_log_format", "string",
     [](const config& c) -> std::string {
         switch (c.handlers.access_log_format) {
             case handlers::log_format::json:
                 return "\"json\"";
             case handlers::log_format::combined_timed:
                 return "\"combined_timed\"";
             case handlers::log_format::combined:
                 break;
         }
         return "\"combined\"";
     },
     "\"combined\" (Apache/nginx), \"combined_timed\" (combined + request time in s, like nginx's "
     "$request_time) or \"json\" (one object per line)",
     [](config& c, std::string_view v) -> std::string {
         if (v == "combined")
             c.handlers.access_log_format = handlers::log_format::combined;
         else if (v == "combined_timed")
             c.handlers.access_log_format = handlers::log_format::combined_timed;
         else if (v == "json")
             c.handlers.access_log_format = handlers::log_format::json;
         else
             return "expected \"combined\", \"combined_timed\" or \"json\"";
         return {};
     }},
    {"gzip", "bool", [](const config& c) -> std::string { return show_bool(c.handlers.gzip); },
     "gzip responses and static files of compressible types for clients that accept it",
     [](config& c, std::string_view v) { return set_bool(c.handlers.gzip, v); }},
    {"gzip_min_length", "size", [](const config& c) -> std::string { return show_size(c.handlers.gzip_min_length); },
     "smallest body that is gzipped",
     [](config& c, std::string_view v) { return set_size(c.handlers.gzip_min_length, v, 0, 1ull << 40); }},
    {"gzip_level", "count", [](const config& c) -> std::string { return std::to_string(c.handlers.gzip_level); },
     "zlib compression level: 1 (fastest) to 9 (smallest)",
     [](config& c, std::string_view v) { return set_count(c.handlers.gzip_level, v, 1, 9); }},
};

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace

std::string describe_settings(const config& values) {
    std::string out;
    for (const auto& s : all_settings) {
        char line[512];
        std::snprintf(line, sizeof line, "  %-26s %-14s %.*s\n", std::string(s.key).c_str(), s.show(values).c_str(),
                      static_cast<int>(s.doc.size()), s.doc.data());
        out += line;
    }
    return out;
}

const std::vector<setting>& settings() {
    return all_settings;
}

const setting* find_setting(std::string_view key) noexcept {
    for (const auto& s : all_settings)
        if (s.key == key) return &s;
    return nullptr;
}

std::string suggest_key(std::string_view key) {
    std::string best;
    std::size_t best_d = ~std::size_t{0};
    for (const auto& s : all_settings) {
        std::size_t d = edit_distance(key, s.key);
        if (d < best_d) {
            best_d = d;
            best = s.key;
        }
    }
    return best_d <= std::max<std::size_t>(2, key.size() / 3) ? best : std::string();
}

std::optional<config_error> apply_setting(config& cfg, std::string_view key, std::string_view value) {
    const setting* s = find_setting(key);
    if (!s) {
        std::string msg = "unknown key \"" + std::string(key) + "\"";
        if (auto hint = suggest_key(key); !hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
        return config_error{msg};
    }
    if (std::string reason = s->parse(cfg, value); !reason.empty()) {
        // A reason about a nested value names its own key and carries where it is (tls_config.hpp).
        if (reason[0] == pointer_mark) return config_error{reason};
        // A JSON value's reason names the part that is wrong; echoing the whole document would bury it.
        if (s->kind == "json") return config_error{"key \"" + std::string(key) + "\": " + reason};
        return config_error{"key \"" + std::string(key) + "\": " + reason + " (got \"" + std::string(value) + "\")"};
    }
    return std::nullopt;
}

namespace {
// Why `path` cannot serve as a static root (empty when it can): checked at start, on reload and
// by --check-config, so a mistyped root fails there instead of answering 500 to every request.
std::string why_not_a_root(const std::string& key, const std::string& path) {
    struct stat st {};
    std::string where = "key \"" + key + "\": \"" + path + "\": ";
    if (::stat(path.c_str(), &st) != 0) return where + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return where + "not a directory";
    if (::access(path.c_str(), R_OK | X_OK) != 0) return where + "cannot be read: " + std::strerror(errno);
    return {};
}
}  // namespace

std::optional<config_error> validate(const config& cfg) {
    if (cfg.listen.empty()) return config_error{"key \"listen\": at least one address is required"};
    if (cfg.worker.limits.max_request_line > cfg.worker.limits.max_head)
        return config_error{"key \"max_request_line\": must not exceed max_head"};
    worker_identity id;
    if (auto e = resolve_worker_identity(cfg, ::geteuid(), id); !e.empty()) return config_error{e};
    if (cfg.handlers.routes.empty()) {
        if (!cfg.handlers.root.empty())
            if (auto e = why_not_a_root("root", cfg.handlers.root); !e.empty()) return config_error{e};
    } else {
        for (std::size_t i = 0; i < cfg.handlers.routes.size(); ++i) {
            const auto& r = cfg.handlers.routes[i];
            if (r.root.empty()) continue;
            if (auto e = why_not_a_root("routes[" + std::to_string(i) + "].root", r.root); !e.empty())
                return config_error{e};
        }
    }
    return std::nullopt;
}

std::string instance_name(const config& cfg) {
    if (!cfg.name.empty()) return cfg.name;
    worker::listen_address a;
    std::string err;
    if (!cfg.listen.empty() && worker::try_parse_listen_address(cfg.listen.front(), a, err)) {
        auto colon = a.text.rfind(':');
        return a.text.substr(colon + 1);
    }
    return "default";
}

void apply_log_level(const config& cfg) noexcept {
    worker::log_level level = worker::log_level::info;
    (void)worker::try_parse_log_level(cfg.log_level, level);  // validated when it was set
    worker::set_log_level(level);
}

unsigned resolved_workers(const config& cfg) noexcept {
    if (cfg.workers != 0) return cfg.workers;
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

}  // namespace fastfork::master
