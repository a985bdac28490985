#include "handlers/dashboard.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>

#include "handlers/features.hpp"
#include "http/conditional.hpp"
#include "http/field.hpp"
#include "http/static_file.hpp"

namespace fastfork::handlers {

namespace {

// The one attribute of dashboard.html the server rewrites; the page reads its stats URL there.
constexpr std::string_view stats_path_attribute = "data-stats-path=\"/stats\"";

std::uint64_t fnv1a64(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

}  // namespace

dashboard_page make_dashboard_page(std::string_view stats_path) {
    dashboard_page page;
    const std::size_t at = dashboard_source.find(stats_path_attribute);
    if (at == std::string_view::npos) {
        // dashboard.html lost its attribute: serve it as it is rather than a broken page.
        page.body = dashboard_source;
    } else {
        page.body.reserve(dashboard_source.size() + stats_path.size());
        page.body.append(dashboard_source.substr(0, at));
        page.body += "data-stats-path=\"";
        http::append_html_escaped(page.body, stats_path);  // safe inside the attribute's quotes
        page.body += '"';
        page.body.append(dashboard_source.substr(at + stats_path_attribute.size()));
    }
    char tag[32];
    std::snprintf(tag, sizeof tag, "\"ffd-%016llx\"", static_cast<unsigned long long>(fnv1a64(page.body)));
    page.etag = tag;
    return page;
}

void dashboard_route(http::request_ctx& ctx) {
    if (ctx.method() != http::method::get && ctx.method() != http::method::head) {
        ctx.set_status(405);
        ctx.add_trusted_header("Allow", "GET, HEAD");
        ctx.set_content_type("text/plain");
        ctx.set_body_static("405 the dashboard answers GET and HEAD only\n");
        return;
    }
    // Kept per stats path, not just once: a program may serve several option sets in one
    // process over its life (tests do), while a worker only ever sees one.
    static std::optional<std::string> built_for;
    static dashboard_page page;
    const std::string& stats_path = features::current().stats_path;
    if (!built_for || *built_for != stats_path) {
        page = make_dashboard_page(stats_path);
        built_for = stats_path;
    }
    ctx.add_trusted_header("ETag", page.etag);
    ctx.add_trusted_header("Cache-Control", "no-cache");
    // RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
    if (const std::string_view inm = ctx.header(http::field::if_none_match);
        !inm.empty() && http::etag_list_matches(inm, page.etag, true)) {
        ctx.set_status(304);
        return;
    }
    ctx.set_content_type("text/html; charset=utf-8");
    ctx.set_body_static(page.body);
}

}  // namespace fastfork::handlers
