#include "shm/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "shm/plural.hpp"

namespace fastfork::shm {

namespace {

using json = nlohmann::ordered_json;

const std::uint64_t* cells_of(const counter_values& v) noexcept {
    return reinterpret_cast<const std::uint64_t*>(&v);
}

// snprintf into a std::string (libstdc++ 12 has no <format>, STYLE.md §0).
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (static_cast<std::size_t>(n) < sizeof buf) {
        out.append(buf, static_cast<std::size_t>(n));
        return;
    }
    std::string big(static_cast<std::size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(big.data(), big.size(), fmt, ap);
    va_end(ap);
    out.append(big.data(), static_cast<std::size_t>(n));
}

std::string format_age(std::uint64_t seconds) {
    char buf[48];
    const std::uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60, s = seconds % 60;
    if (d > 0)
        std::snprintf(buf, sizeof buf, "%llud%02lluh%02llum", static_cast<unsigned long long>(d),
                      static_cast<unsigned long long>(h), static_cast<unsigned long long>(m));
    else if (h > 0)
        std::snprintf(buf, sizeof buf, "%lluh%02llum%02llus", static_cast<unsigned long long>(h),
                      static_cast<unsigned long long>(m), static_cast<unsigned long long>(s));
    else if (m > 0)
        std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(m),
                      static_cast<unsigned long long>(s));
    else
        std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
    return buf;
}

double round3(double v) {
    return std::round(v * 1000.0) / 1000.0;
}

json latency_json(const histogram_values& h) {
    const latency_summary l = summarize(h);
    json j;
    j["count"] = l.count;
    j["p50"] = round3(l.p50_us);
    j["p90"] = round3(l.p90_us);
    j["p99"] = round3(l.p99_us);
    j["p999"] = round3(l.p999_us);
    j["sum"] = round3(l.sum_us);
    return j;
}

// Every non-empty bucket as [midpoint µs, count], ascending: a client that keeps two of these
// (the dashboard) computes an interval's percentiles from their difference, as
// histogram_values::minus does for `stats --watch`.
json buckets_json(const histogram_values& h) {
    json out = json::array();
    for (std::size_t i = 0; i < h.buckets.size(); ++i)
        if (h.buckets[i] != 0) out.push_back(json::array({round3(histogram_bucket_mid(i) / 1000.0), h.buckets[i]}));
    return out;
}

void counters_json(const counter_values& v, json& out) {
    const std::uint64_t* c = cells_of(v);
    for (const auto& f : counter_table) {
        if (f.length == 1) {
            out[std::string(f.name)] = c[f.cell];
            continue;
        }
        json sub = json::object();
        for (std::size_t i = 0; i < f.length; ++i) {
            std::string_view label = f.label_value(i);
            const std::uint64_t value = c[f.cell + i];
            // Unnamed elements (parse error kind 0, spare kinds) are shown only if counted.
            if (!label.empty())
                sub[std::string(label)] = value;
            else if (value != 0)
                sub["unknown_" + std::to_string(i)] = value;
        }
        out[std::string(f.name)] = std::move(sub);
    }
}

// ---- table

const worker_snapshot* find_by_pid(const snapshot* s, std::int64_t pid) {
    if (!s) return nullptr;
    for (const auto& w : s->workers)
        if (w.pid == pid) return &w;
    return nullptr;
}

struct row {
    std::string name;
    std::string pid;
    std::string state;
    std::string gen;
    const counter_values* now = nullptr;
    const counter_values* before = nullptr;  // for the rate; nullptr: count from zero
    const histogram_values* lat = nullptr;
    const histogram_values* lat_before = nullptr;
};

void table_row(std::string& out, const row& r, double interval_s, bool with_rates) {
    const counter_values& v = *r.now;
    char rate[32] = "-";
    if (with_rates && interval_s > 0) {
        const std::uint64_t before = r.before ? r.before->requests : 0;
        const double d = v.requests >= before ? static_cast<double>(v.requests - before) : 0.0;
        std::snprintf(rate, sizeof rate, "%.1f", d / interval_s);
    }
    histogram_values interval;
    const histogram_values* h = r.lat;
    if (with_rates && r.lat_before) {
        interval = r.lat->minus(*r.lat_before);
        h = &interval;
    }
    const latency_summary l = summarize(*h);
    auto dur = [&](double us) { return l.count ? format_duration_ns(us * 1000.0) : std::string("-"); };
    appendf(out, "%-8s %8s %-9s %4s %6llu %11llu %9s %10llu %8llu %8llu %8llu %8s %8s %8s %8s\n", r.name.c_str(),
            r.pid.c_str(), r.state.c_str(), r.gen.c_str(), static_cast<unsigned long long>(v.connections_active),
            static_cast<unsigned long long>(v.requests), rate, static_cast<unsigned long long>(v.responses_by_class[1]),
            static_cast<unsigned long long>(v.responses_by_class[2]),
            static_cast<unsigned long long>(v.responses_by_class[3]),
            static_cast<unsigned long long>(v.responses_by_class[4]), dur(l.p50_us).c_str(), dur(l.p90_us).c_str(),
            dur(l.p99_us).c_str(), dur(l.p999_us).c_str());
}

// ---- prometheus

void prom_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    appendf(out, "# HELP %.*s %.*s\n# TYPE %.*s %.*s\n", static_cast<int>(name.size()), name.data(),
            static_cast<int>(help.size()), help.data(), static_cast<int>(name.size()), name.data(),
            static_cast<int>(type.size()), type.data());
}

constexpr double latency_bounds[] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                     1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   0.5,  1,    2.5,    5,    10,   30,     60};

}  // namespace

std::span<const counter_field> counter_fields() noexcept {
    return counter_table;
}

std::span<const double> prometheus_latency_bounds() noexcept {
    return latency_bounds;
}

latency_summary summarize(const histogram_values& h) noexcept {
    latency_summary l;
    l.count = h.count();
    l.p50_us = h.percentile(50) / 1000.0;
    l.p90_us = h.percentile(90) / 1000.0;
    l.p99_us = h.percentile(99) / 1000.0;
    l.p999_us = h.percentile(99.9) / 1000.0;
    l.sum_us = static_cast<double>(h.sum_ns) / 1000.0;
    return l;
}

std::string format_duration_ns(double ns) {
    char buf[32];
    if (ns < 1e3)
        std::snprintf(buf, sizeof buf, "%.0fns", ns);
    else if (ns < 1e6)
        std::snprintf(buf, sizeof buf, "%.3gus", ns / 1e3);
    else if (ns < 1e9)
        std::snprintf(buf, sizeof buf, "%.3gms", ns / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.3gs", ns / 1e9);
    return buf;
}

std::string render_table(const snapshot& s, const snapshot* prev, double interval_s) {
    std::string out;
    const bool with_rates = prev != nullptr && interval_s > 0;
    appendf(out, "fastfork \"%s\"  master %lld%s  up %s  generation %llu  workers %zu/%u%s\n", s.instance.c_str(),
            static_cast<long long>(s.master_pid), s.stale ? " (STALE: not running)" : "",
            format_age(static_cast<std::uint64_t>(s.uptime_s())).c_str(), static_cast<unsigned long long>(s.generation),
            s.workers.size(), s.workers_configured, s.stopping ? "  stopping" : "");
    if (with_rates) {
        const std::uint64_t d =
            s.totals.requests >= prev->totals.requests ? s.totals.requests - prev->totals.requests : 0;
        const latency_summary l = summarize(s.total_latency.minus(prev->total_latency));
        auto dur = [&](double us) { return l.count ? format_duration_ns(us * 1000.0) : std::string("-"); };
        appendf(out, "last %.1f s: %.1f req/s  p50 %s  p90 %s  p99 %s  p99.9 %s\n", interval_s,
                static_cast<double>(d) / interval_s, dur(l.p50_us).c_str(), dur(l.p90_us).c_str(),
                dur(l.p99_us).c_str(), dur(l.p999_us).c_str());
    }
    appendf(out, "%-8s %8s %-9s %4s %6s %11s %9s %10s %8s %8s %8s %8s %8s %8s %8s\n", "WORKER", "PID", "STATE", "GEN",
            "CONNS", "REQUESTS", "REQ/S", "2XX", "3XX", "4XX", "5XX", "P50", "P90", "P99", "P99.9");
    for (const auto& w : s.workers) {
        const worker_snapshot* before = find_by_pid(prev, w.pid);
        row r{std::to_string(w.worker_index),
              std::to_string(w.pid),
              std::string(to_string(w.state)),
              std::to_string(w.generation),
              &w.counters,
              before ? &before->counters : nullptr,
              &w.latency,
              before ? &before->latency : nullptr};
        if (with_rates && !before) {
            static const histogram_values empty;
            r.lat_before = &empty;  // a process born during the interval: everything is new
        }
        table_row(out, r, interval_s, with_rates);
    }
    table_row(out,
              row{"retired", "", "", "", &s.retired, prev ? &prev->retired : nullptr, &s.retired_latency,
                  prev ? &prev->retired_latency : nullptr},
              interval_s, with_rates);
    table_row(out,
              row{"total", "", "", "", &s.totals, prev ? &prev->totals : nullptr, &s.total_latency,
                  prev ? &prev->total_latency : nullptr},
              interval_s, with_rates);
    return out;
}

std::string render_status(const snapshot& s) {
    std::string out;
    if (s.stale)
        appendf(out, "instance \"%s\": STALE: master %lld is not running (segment left behind)\n", s.instance.c_str(),
                static_cast<long long>(s.master_pid));
    else
        appendf(out, "instance \"%s\": master %lld running%s\n", s.instance.c_str(),
                static_cast<long long>(s.master_pid), s.stopping ? ", stopping" : "");
    appendf(out, "uptime %s, generation %llu, %u worker%s configured, %llu restart%s\n",
            format_age(static_cast<std::uint64_t>(s.uptime_s())).c_str(), static_cast<unsigned long long>(s.generation),
            s.workers_configured, plural_s(s.workers_configured), static_cast<unsigned long long>(s.restarts),
            plural_s(s.restarts));
    if (s.last_reload.ok < 0)
        appendf(out, "last reload: none (%llu ok, %llu failed)\n", static_cast<unsigned long long>(s.reloads_ok),
                static_cast<unsigned long long>(s.reloads_failed));
    else
        appendf(out, "last reload: #%llu %s: %s (%llu ok, %llu failed)\n",
                static_cast<unsigned long long>(s.last_reload.count), s.last_reload.ok == 1 ? "ok" : "FAILED",
                s.last_reload.message.c_str(), static_cast<unsigned long long>(s.reloads_ok),
                static_cast<unsigned long long>(s.reloads_failed));
    appendf(out, "recycled workers: %llu by max_requests, %llu by max_worker_memory, %llu by max_worker_age\n",
            static_cast<unsigned long long>(s.recycles[0]), static_cast<unsigned long long>(s.recycles[1]),
            static_cast<unsigned long long>(s.recycles[2]));
    appendf(out, "%-6s %8s %-9s %5s %10s %9s\n", "WORKER", "PID", "STATE", "GEN", "HEARTBEAT", "RESTARTS");
    for (const auto& w : s.workers) {
        char beat[32];
        std::snprintf(beat, sizeof beat, "%.1fs ago", static_cast<double>(w.heartbeat_age_ms) / 1000.0);
        appendf(out, "%-6u %8lld %-9s %5llu %10s %9llu\n", w.worker_index, static_cast<long long>(w.pid),
                std::string(to_string(w.state)).c_str(), static_cast<unsigned long long>(w.generation), beat,
                static_cast<unsigned long long>(w.restarts));
    }
    return out;
}

std::string render_json(const snapshot& s) {
    json j;
    j["instance"] = s.instance;
    j["master_pid"] = s.master_pid;
    j["stale"] = s.stale;
    j["consistent"] = s.consistent;
    j["layout_version"] = s.layout_version;
    j["start_time_ms"] = s.start_time_ms;
    j["uptime_s"] = round3(s.uptime_s());
    j["generation"] = s.generation;
    j["workers_configured"] = s.workers_configured;
    j["stopping"] = s.stopping;
    j["restarts"] = s.restarts;
    j["reloads_ok"] = s.reloads_ok;
    j["reloads_failed"] = s.reloads_failed;
    json recycles;
    for (std::size_t r = 0; r < recycle_reason_count; ++r)
        recycles[to_string(static_cast<recycle_reason>(r))] = s.recycles[r];
    j["recycles"] = std::move(recycles);
    json reload;
    reload["count"] = s.last_reload.count;
    if (s.last_reload.ok < 0)
        reload["ok"] = nullptr;
    else
        reload["ok"] = s.last_reload.ok == 1;
    reload["message"] = s.last_reload.message;
    j["last_reload"] = std::move(reload);
    json workers = json::array();
    for (const auto& w : s.workers) {
        json o;
        o["slot"] = w.slot;
        o["pid"] = w.pid;
        o["state"] = std::string(to_string(w.state));
        o["worker_index"] = w.worker_index;
        o["generation"] = w.generation;
        o["start_time_ms"] = w.start_time_ms;
        o["heartbeat_age_ms"] = w.heartbeat_age_ms;
        o["restarts"] = w.restarts;
        counters_json(w.counters, o);
        o["latency_us"] = latency_json(w.latency);
        workers.push_back(std::move(o));
    }
    j["workers"] = std::move(workers);
    json retired;
    counters_json(s.retired, retired);
    retired["latency_us"] = latency_json(s.retired_latency);
    j["retired"] = std::move(retired);
    json totals;
    counters_json(s.totals, totals);
    totals["latency_us"] = latency_json(s.total_latency);
    totals["latency_us"]["buckets"] = buckets_json(s.total_latency);
    j["totals"] = std::move(totals);
    // The snapshot's text is valid UTF-8 already (shm/text.hpp); replacing is the last line of
    // defence, so that a bad byte can never make dump() throw type_error 316 (issue 16.2).
    std::string out = j.dump(-1, ' ', false, json::error_handler_t::replace);
    out += '\n';
    return out;
}

std::string render_prometheus(const snapshot& s) {
    std::string out;
    out.reserve(32 * 1024);
    // Series worker="i" is index i's retired counters plus every live process of index i (old
    // and new generation during a reload share it). It continues across restarts, reloads and
    // kill -9, and an index removed by scale-down keeps its last value: a per-process series, or
    // a worker="retired" one that jumps when a process exits, reads as a counter reset to
    // rate() and counts the same requests twice (issue 10.2). Gauges come from live processes.
    std::map<std::uint32_t, counter_values> by_index;
    for (std::size_t i = 0; i < s.retired_by_index.size(); ++i)
        by_index[static_cast<std::uint32_t>(i)] = s.retired_by_index[i];
    for (const auto& w : s.workers) add_counters(by_index[w.worker_index], w.counters, /*gauges=*/true);

    prom_header(out, "fastfork_stale", "gauge", "1 when the master of this stats segment is not running.");
    appendf(out, "fastfork_stale %d\n", s.stale ? 1 : 0);
    prom_header(out, "fastfork_start_time_seconds", "gauge", "When the master started, seconds since the epoch.");
    appendf(out, "fastfork_start_time_seconds %.3f\n", static_cast<double>(s.start_time_ms) / 1000.0);
    prom_header(out, "fastfork_generation", "gauge", "Newest worker generation started (one per reload).");
    appendf(out, "fastfork_generation %llu\n", static_cast<unsigned long long>(s.generation));
    prom_header(out, "fastfork_workers", "gauge", "Configured worker processes.");
    appendf(out, "fastfork_workers %u\n", s.workers_configured);
    prom_header(out, "fastfork_restarts_total", "counter", "Worker processes restarted after an unexpected exit.");
    appendf(out, "fastfork_restarts_total %llu\n", static_cast<unsigned long long>(s.restarts));
    prom_header(out, "fastfork_reloads_total", "counter", "Reloads (SIGHUP), by result.");
    appendf(out, "fastfork_reloads_total{result=\"ok\"} %llu\nfastfork_reloads_total{result=\"failed\"} %llu\n",
            static_cast<unsigned long long>(s.reloads_ok), static_cast<unsigned long long>(s.reloads_failed));
    prom_header(out, "fastfork_recycles_total", "counter",
                "Healthy workers replaced by max_requests, max_worker_memory or max_worker_age, by reason.");
    for (std::size_t r = 0; r < recycle_reason_count; ++r)
        appendf(out, "fastfork_recycles_total{reason=\"%s\"} %llu\n", to_string(static_cast<recycle_reason>(r)),
                static_cast<unsigned long long>(s.recycles[r]));
    if (s.last_reload.ok >= 0) {
        prom_header(out, "fastfork_last_reload_success", "gauge", "1 when the last reload succeeded.");
        appendf(out, "fastfork_last_reload_success %d\n", s.last_reload.ok == 1 ? 1 : 0);
    }
    prom_header(out, "fastfork_worker_info", "gauge", "One series per worker process: its pid, state and generation.");
    for (const auto& w : s.workers)
        appendf(out, "fastfork_worker_info{worker=\"%u\",pid=\"%lld\",state=\"%s\",generation=\"%llu\"} 1\n",
                w.worker_index, static_cast<long long>(w.pid), std::string(to_string(w.state)).c_str(),
                static_cast<unsigned long long>(w.generation));
    std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> beat_and_restarts;
    for (const auto& w : s.workers) {
        auto& [age, restarts] = beat_and_restarts[w.worker_index];
        age = std::max(age, w.heartbeat_age_ms);
        restarts = std::max(restarts, w.restarts);
    }
    prom_header(out, "fastfork_worker_heartbeat_age_seconds", "gauge",
                "Time since the worker's loop last advanced its heartbeat.");
    for (const auto& [index, v] : beat_and_restarts)
        appendf(out, "fastfork_worker_heartbeat_age_seconds{worker=\"%u\"} %.3f\n", index,
                static_cast<double>(v.first) / 1000.0);
    prom_header(out, "fastfork_worker_restarts_total", "counter", "Restarts of this worker index so far.");
    for (const auto& [index, v] : beat_and_restarts)
        appendf(out, "fastfork_worker_restarts_total{worker=\"%u\"} %llu\n", index,
                static_cast<unsigned long long>(v.second));

    for (const auto& f : counter_table) {
        std::string name = "fastfork_" + std::string(f.name) + (f.gauge ? "" : "_total");
        prom_header(out, name, f.gauge ? "gauge" : "counter", f.help);
        auto series = [&](const char* worker, const counter_values& v) {
            const std::uint64_t* c = cells_of(v);
            if (f.length == 1) {
                appendf(out, "%s{worker=\"%s\"} %llu\n", name.c_str(), worker,
                        static_cast<unsigned long long>(c[f.cell]));
                return;
            }
            for (std::size_t i = 0; i < f.length; ++i) {
                std::string_view label = f.label_value(i);
                if (label.empty()) continue;
                appendf(out, "%s{worker=\"%s\",%.*s=\"%.*s\"} %llu\n", name.c_str(), worker,
                        static_cast<int>(f.label.size()), f.label.data(), static_cast<int>(label.size()), label.data(),
                        static_cast<unsigned long long>(c[f.cell + i]));
            }
        };
        for (const auto& [index, v] : by_index) series(std::to_string(index).c_str(), v);
    }

    const histogram_values& h = s.total_latency;
    const std::string_view hname = "fastfork_request_duration_seconds";
    prom_header(out, hname, "histogram",
                "Request latency: from the parsed request head to its response serialized for the socket.");
    std::uint64_t cumulative = 0;
    std::size_t bucket = 0;
    for (double le : latency_bounds) {
        const double le_ns = le * 1e9;
        while (bucket < histogram_buckets && histogram_bucket_mid(bucket) <= le_ns) cumulative += h.buckets[bucket++];
        appendf(out, "%.*s_bucket{le=\"%g\"} %llu\n", static_cast<int>(hname.size()), hname.data(), le,
                static_cast<unsigned long long>(cumulative));
    }
    const std::uint64_t total = h.count();
    appendf(out, "%.*s_bucket{le=\"+Inf\"} %llu\n", static_cast<int>(hname.size()), hname.data(),
            static_cast<unsigned long long>(total));
    appendf(out, "%.*s_sum %.9g\n", static_cast<int>(hname.size()), hname.data(), static_cast<double>(h.sum_ns) / 1e9);
    appendf(out, "%.*s_count %llu\n", static_cast<int>(hname.size()), hname.data(),
            static_cast<unsigned long long>(total));
    return out;
}

}  // namespace fastfork::shm
