#include "handlers/welcome_page.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "handlers/status_access.hpp"
#include "http/static_file.hpp"
#include "http/status.hpp"
#include "shm/segment.hpp"
#include "shm/snapshot.hpp"
#include "worker/server.hpp"

namespace fastfork::handlers {

namespace {

constexpr std::string_view page_head = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Welcome to fastfork</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.5;color:#222}
pre,code{background:#f4f4f4;border-radius:4px}pre{padding:.8em;overflow-x:auto}code{padding:0 .2em}
table{border-collapse:collapse}td{padding:.15em 1.2em .15em 0}td.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<h1>Welcome to fastfork</h1>
<p>If you see this page, the fastfork web server is running. It has no document root yet, so it
shows this page at <code>/</code>.</p>
<p>fastfork is a multi-core HTTP/1.1 server: one master process supervises worker processes
(graceful reloads on SIGHUP, graceful shutdown on SIGTERM); each worker runs an event loop with
a pool of fibers, and all of them publish live statistics in shared memory.</p>
<h2>Serve your files</h2>
<p>Create a directory named <code>public</code> next to where you start fastfork, or point it at
one: <code>fastfork --root /srv/www</code>. Or write a configuration file and start
<code>fastfork -c fastfork.json</code>:</p>
<pre>{
  "listen": ["0.0.0.0:8080"],
  "workers": "auto",
  "root": "/srv/www",
  "autoindex": false,
  "precompressed": "on",
  "open_file_cache_size": 1000
}</pre>
<p><code>fastfork --help</code> lists every key; <code>fastfork --check-config -c fastfork.json</code>
validates a file; <code>fastforkctl stats</code> shows the live counters.</p>
<h2>This instance</h2>
)";

constexpr std::string_view page_tail = R"(<p>Built-in routes: <a href="/healthz">/healthz</a> (this worker),
<a href="/stats">/stats</a> (JSON) and <a href="/metrics">/metrics</a> (Prometheus), unless
configured otherwise (<code>stats_path</code>, <code>metrics_path</code>).</p>
</body></html>
)";

void row(std::string& html, std::string_view name, std::string_view value) {
    html += "<tr><td>";
    html += name;
    html += "</td><td class=\"n\">";
    http::append_html_escaped(html, value);
    html += "</td></tr>\n";
}

void row(std::string& html, std::string_view name, unsigned long long value) {
    char text[24];
    std::snprintf(text, sizeof text, "%llu", value);
    row(html, name, text);
}

std::string format_uptime(double seconds) {
    auto s = static_cast<unsigned long long>(seconds < 0 ? 0 : seconds);
    char text[48];
    if (s >= 86'400)
        std::snprintf(text, sizeof text, "%llud %lluh %llum", s / 86'400, s % 86'400 / 3600, s % 3600 / 60);
    else if (s >= 3600)
        std::snprintf(text, sizeof text, "%lluh %llum %llus", s / 3600, s % 3600 / 60, s % 60);
    else if (s >= 60)
        std::snprintf(text, sizeof text, "%llum %llus", s / 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%llus", s);
    return text;
}

void append_stats(std::string& html, const http::request_ctx& ctx) {
    // The live table is the instance's statistics: for status_allow peers only, like /stats.
    if (!may_see_status(ctx)) {
        html +=
            "<p>Live statistics are shown only to the addresses in <code>status_allow</code> "
            "(by default this host).</p>\n";
        return;
    }
    const worker::server* srv = worker::server::current();
    if (!srv) {
        html += "<p>(no statistics outside a worker)</p>\n";
        return;
    }
    const shm::segment_layout* seg = shm::current_segment();
    const shm::snapshot s = seg ? shm::take_snapshot(*seg, shm::current_segment_name())
                                : shm::take_local_snapshot(srv->counters(), srv->latency(), "single-process");
    const auto& t = s.totals;
    html += "<table>\n";
    row(html, "instance", s.instance);
    row(html, "mode", seg ? "master + workers" : "single process");
    row(html, "uptime", format_uptime(s.uptime_s()));
    if (seg) {
        row(html, "workers running", static_cast<unsigned long long>(s.workers.size()));
        row(html, "workers configured", static_cast<unsigned long long>(s.workers_configured));
        row(html, "generation", static_cast<unsigned long long>(s.generation));
    }
    row(html, "requests", static_cast<unsigned long long>(t.requests));
    row(html, "responses 2xx", static_cast<unsigned long long>(t.responses_by_class[1]));
    row(html, "responses 4xx", static_cast<unsigned long long>(t.responses_by_class[3]));
    row(html, "responses 5xx", static_cast<unsigned long long>(t.responses_by_class[4]));
    row(html, "connections open", static_cast<unsigned long long>(t.connections_active));
    row(html, "bytes in", static_cast<unsigned long long>(t.bytes_in));
    row(html, "bytes out", static_cast<unsigned long long>(t.bytes_out));
    char me[96];
    std::snprintf(me, sizeof me, "pid %d, slot %u", static_cast<int>(::getpid()), srv->opts().slot);
    row(html, "this page came from", me);
    html += "</table>\n";
}

}  // namespace

bool welcome_page(http::request_ctx& ctx, std::string_view rest) {
    if (!rest.empty() && rest != "/") return false;
    if (ctx.method() != http::method::get && ctx.method() != http::method::head) {
        ctx.set_status(405);
        ctx.add_trusted_header("Allow", "GET, HEAD");
        ctx.set_content_type("text/plain; charset=utf-8");
        ctx.set_body_static(http::status_body(405));
        return true;
    }
    std::string html;
    html.reserve(4096);
    html += page_head;
    append_stats(html, ctx);
    html += page_tail;
    ctx.set_content_type("text/html; charset=utf-8");
    ctx.add_trusted_header("Cache-Control", "no-store");
    ctx.set_body(html);
    return true;
}

}  // namespace fastfork::handlers
