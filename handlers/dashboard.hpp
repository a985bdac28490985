#pragma once
// The live dashboard (worker): one self-contained HTML page (handlers/dashboard.html, embedded
// into the binary at build time) that polls the instance's JSON stats route and draws it.
// Built-in route "dashboard", mounted at options::dashboard_path.

#include <string>
#include <string_view>

#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// The bytes of handlers/dashboard.html as they are in the repository (generated
/// dashboard_html.cpp). It polls "/stats" unless make_dashboard_page changes that.
extern const std::string_view dashboard_source;

/// The page as one configuration serves it, and its strong validator.
struct dashboard_page {
    std::string body;  // dashboard_source with the stats path filled in
    std::string etag;  // "\"ffd-<16 hex digits of a 64-bit FNV-1a hash of body>\""
};

/// Fills `stats_path` (the stats_path option, "" = off) into the page: the page fetches that
/// path, and with "" shows that the stats route is turned off instead of polling.
[[nodiscard]] dashboard_page make_dashboard_page(std::string_view stats_path);

/// Answers GET and HEAD with the page for features::current().stats_path (built once per
/// process and kept: the options of a process never change), `Cache-Control: no-cache` and its
/// ETag; 304 when If-None-Match matches it; 405 with `Allow: GET, HEAD` for other methods.
/// Never compressed (the ETag names these bytes; the gzip filter leaves tagged bodies alone).
void dashboard_route(http::request_ctx& ctx);

}  // namespace fastfork::handlers
