#include "shm/render.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>

#include "shm/clock.hpp"

using namespace fastfork::shm;

namespace {

snapshot sample(std::uint64_t requests_per_worker, std::uint64_t mono_ns) {
    snapshot s;
    s.instance = "unit";
    s.master_pid = ::getpid();
    s.layout_version = layout_version;
    s.start_time_ms = realtime_ms() - 65'000;
    s.taken_at_ms = realtime_ms();
    s.taken_mono_ns = mono_ns;
    s.generation = 2;
    s.workers_configured = 2;
    s.last_reload = {1, 1, "generation 2 serving"};
    s.reloads_ok = 1;
    for (unsigned i = 0; i < 2; ++i) {
        worker_snapshot w;
        w.slot = i;
        w.pid = 1000 + i;
        w.state = worker_state::ready;
        w.worker_index = i;
        w.generation = 2;
        w.heartbeat_age_ms = 120;
        w.counters.requests = requests_per_worker;
        w.counters.responses_by_class[1] = requests_per_worker - 2;
        w.counters.responses_by_class[3] = 2;
        w.counters.responses_by_status[tracked_status_index(431)] = 1;
        w.counters.parse_errors = 1;
        w.counters.parse_errors_by_kind[7] = 1;  // header_too_large
        w.counters.connections_active = 1;
        for (std::uint64_t n = 0; n < requests_per_worker; ++n) {
            const std::uint64_t ns = 10'000 + n * 100;
            w.latency.buckets[histogram_bucket_of(ns)] += 1;
            w.latency.sum_ns += ns;
        }
        s.workers.push_back(w);
    }
    s.retired.requests = 5;
    s.retired.responses_by_class[1] = 5;
    s.retired_by_index = {counter_values{}, s.retired};  // worker 1's exited processes
    s.totals = s.retired;
    s.total_latency = s.retired_latency;
    for (const auto& w : s.workers) {
        add_counters(s.totals, w.counters, true);
        s.total_latency.merge(w.latency);
    }
    return s;
}

bool has_promtool() {
    return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_render)

BOOST_AUTO_TEST_CASE(json_has_the_documented_keys) {
    const snapshot s = sample(100, 1);
    const auto j = nlohmann::json::parse(render_json(s));
    for (const char* key : {"instance", "master_pid", "stale", "consistent", "layout_version", "start_time_ms",
                            "uptime_s", "generation", "workers_configured", "stopping", "restarts", "reloads_ok",
                            "reloads_failed", "last_reload", "workers", "retired", "totals"})
        BOOST_TEST(j.contains(key), key);
    BOOST_TEST(j["instance"] == "unit");
    BOOST_TEST(j["stale"] == false);
    BOOST_TEST(j["uptime_s"].get<double>() >= 64.0);
    BOOST_TEST(j["last_reload"]["ok"] == true);
    BOOST_TEST(j["last_reload"]["message"] == "generation 2 serving");
    BOOST_TEST_REQUIRE(j["workers"].size() == 2u);
    const auto& w = j["workers"][0];
    for (const char* key : {"slot", "pid", "state", "worker_index", "generation", "start_time_ms", "heartbeat_age_ms",
                            "restarts", "requests", "latency_us"})
        BOOST_TEST(w.contains(key), key);
    BOOST_TEST(w["state"] == "ready");
    const auto& t = j["totals"];
    for (const auto& f : counter_fields()) BOOST_TEST(t.contains(std::string(f.name)), f.name);
    BOOST_TEST(t["requests"] == 205u);
    BOOST_TEST(t["responses_by_class"]["2xx"] == 201u);
    BOOST_TEST(t["responses_by_class"]["4xx"] == 4u);
    BOOST_TEST(t["responses_by_status"]["431"] == 2u);
    BOOST_TEST(t["responses_by_status"]["400"] == 0u);
    BOOST_TEST(t["parse_errors_by_kind"]["header_too_large"] == 2u);
    BOOST_TEST(!t["parse_errors_by_kind"].contains(""));
    BOOST_TEST(t["connections_refused"].contains("per_ip"));
    BOOST_TEST(t["timeouts"].contains("header"));
    for (const char* key : {"count", "p50", "p90", "p99", "p999", "sum"})
        BOOST_TEST(t["latency_us"].contains(key), key);
    BOOST_TEST(t["latency_us"]["count"] == 200u);
    // p50 of 10 µs + n*0.1 µs over n < 100, twice: about 14.95 µs.
    BOOST_TEST(std::abs(t["latency_us"]["p50"].get<double>() - 14.95) < 0.2);
}

BOOST_AUTO_TEST_CASE(json_totals_carry_the_nonempty_latency_buckets) {
    const snapshot s = sample(100, 1);
    const auto j = nlohmann::json::parse(render_json(s));
    const auto& b = j["totals"]["latency_us"]["buckets"];
    BOOST_TEST_REQUIRE(b.is_array());
    BOOST_TEST_REQUIRE(!b.empty());
    std::uint64_t sum = 0;
    double last = -1;
    for (const auto& pair : b) {
        BOOST_TEST_REQUIRE(pair.size() == 2u);
        const double mid = pair[0].get<double>();
        BOOST_TEST(mid > last);  // ascending, each bucket once
        BOOST_TEST(pair[1].get<std::uint64_t>() > 0u);
        last = mid;
        sum += pair[1].get<std::uint64_t>();
    }
    BOOST_TEST(sum == j["totals"]["latency_us"]["count"].get<std::uint64_t>());
    // The sample's values are 10..19.9 µs: so are the midpoints.
    BOOST_TEST(b.front()[0].get<double>() >= 9.9);
    BOOST_TEST(b.back()[0].get<double>() <= 20.1);
    BOOST_TEST(!j["workers"][0]["latency_us"].contains("buckets"));  // totals only: the body stays small
}

BOOST_AUTO_TEST_CASE(json_reload_ok_is_null_before_any_reload) {
    snapshot s = sample(3, 1);
    s.last_reload = {};
    const auto j = nlohmann::json::parse(render_json(s));
    BOOST_TEST(j["last_reload"]["ok"].is_null());
}

BOOST_AUTO_TEST_CASE(recycles_are_shown_by_reason_everywhere) {
    snapshot s = sample(100, 1);
    s.recycles[static_cast<std::size_t>(recycle_reason::requests)] = 7;
    s.recycles[static_cast<std::size_t>(recycle_reason::age)] = 2;
    const auto j = nlohmann::json::parse(render_json(s));
    BOOST_TEST(j["recycles"]["requests"] == 7);
    BOOST_TEST(j["recycles"]["memory"] == 0);
    BOOST_TEST(j["recycles"]["age"] == 2);
    const std::string prom = render_prometheus(s);
    BOOST_TEST(prom.find("# TYPE fastfork_recycles_total counter\n") != std::string::npos, prom);
    BOOST_TEST(prom.find("fastfork_recycles_total{reason=\"requests\"} 7\n") != std::string::npos);
    BOOST_TEST(prom.find("fastfork_recycles_total{reason=\"memory\"} 0\n") != std::string::npos);
    BOOST_TEST(prom.find("fastfork_recycles_total{reason=\"age\"} 2\n") != std::string::npos);
    const std::string status = render_status(s);
    BOOST_TEST(status.find("recycled workers: 7 by max_requests, 0 by max_worker_memory, 2 by max_worker_age") !=
                   std::string::npos,
               status);
}

BOOST_AUTO_TEST_CASE(prometheus_lines_parse) {
    const std::string text = render_prometheus(sample(100, 1));
    std::istringstream in(text);
    const std::regex sample_line(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$)");
    const std::regex help_line(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
    const std::regex type_line(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
    std::map<std::string, std::string> types;
    std::string line;
    int samples = 0;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, type_line)) {
            BOOST_TEST(types.emplace(m[1], m[2]).second, "TYPE twice: " << line);
            continue;
        }
        if (line.rfind("# HELP", 0) == 0) {
            BOOST_TEST(std::regex_match(line, help_line), line);
            continue;
        }
        BOOST_TEST_REQUIRE(std::regex_match(line, m, sample_line), "bad line: " << line);
        ++samples;
        std::string family = m[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (!types.count(family) && family.size() > std::strlen(suffix) &&
                family.compare(family.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
                family.resize(family.size() - std::strlen(suffix));
        BOOST_TEST_REQUIRE(types.count(family) == 1u, "sample before its TYPE: " << line);
        if (types[family] == "counter")
            BOOST_TEST((family.size() > 6 && family.substr(family.size() - 6) == "_total"), family);
    }
    BOOST_TEST(samples > 100);
    BOOST_TEST(text.find("fastfork_requests_total{worker=\"0\"} 100\n") != std::string::npos);
    // Worker 1's series carries its exited processes' counts (issue 10.2): no worker="retired".
    BOOST_TEST(text.find("fastfork_requests_total{worker=\"1\"} 105\n") != std::string::npos);
    BOOST_TEST(text.find("worker=\"retired\"") == std::string::npos);
    BOOST_TEST(text.find("fastfork_responses_by_status_total{worker=\"1\",status=\"431\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("fastfork_connections_active{worker=\"0\"} 1\n") != std::string::npos);
    BOOST_TEST(text.find("fastfork_request_duration_seconds_count 200\n") != std::string::npos);
    BOOST_TEST(text.find("fastfork_request_duration_seconds_bucket{le=\"+Inf\"} 200\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(prometheus_histogram_buckets_are_cumulative) {
    const std::string text = render_prometheus(sample(100, 1));
    std::istringstream in(text);
    std::string line;
    std::uint64_t last = 0;
    int buckets = 0;
    const std::string prefix = "fastfork_request_duration_seconds_bucket{le=\"";
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) != 0) continue;
        const std::uint64_t v = std::stoull(line.substr(line.rfind(' ') + 1));
        BOOST_TEST(v >= last, line);
        last = v;
        ++buckets;
    }
    BOOST_TEST(buckets == static_cast<int>(prometheus_latency_bounds().size()) + 1);
    BOOST_TEST(last == 200u);
    // All samples are 10..20 µs: nothing at or below 5 µs, all at or below 25 µs.
    BOOST_TEST(text.find(prefix + "5e-06\"} 0\n") != std::string::npos);
    BOOST_TEST(text.find(prefix + "2.5e-05\"} 200\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(promtool_accepts_the_exposition) {
    if (!has_promtool()) {
        BOOST_TEST_MESSAGE("promtool not found: skipping `promtool check metrics`");
        return;
    }
    char path[] = "/tmp/ff-shm-metrics-XXXXXX";
    int fd = ::mkstemp(path);
    BOOST_TEST_REQUIRE(fd >= 0);
    const std::string text = render_prometheus(sample(100, 1));
    BOOST_TEST_REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    const std::string cmd = std::string("promtool check metrics < ") + path + " > " + path + ".out 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream out(std::string(path) + ".out");
    std::stringstream msg;
    msg << out.rdbuf();
    BOOST_TEST(rc == 0, "promtool check metrics said:\n" << msg.str());
    ::unlink(path);
    ::unlink((std::string(path) + ".out").c_str());
}

BOOST_AUTO_TEST_CASE(table_shows_rates_with_a_previous_snapshot) {
    const snapshot before = sample(100, 1'000'000'000);
    const snapshot now = sample(150, 2'000'000'000);
    const std::string lifetime = render_table(now);
    BOOST_TEST(lifetime.find("REQ/S") != std::string::npos);
    BOOST_TEST(lifetime.find("total") != std::string::npos);
    BOOST_TEST(lifetime.find("retired") != std::string::npos);
    const std::string watch = render_table(now, &before, 1.0);
    // 2 x 50 more requests in 1 s.
    BOOST_TEST(watch.find("100.0 req/s") != std::string::npos, watch);
    BOOST_TEST(watch.find(" 50.0 ") != std::string::npos, watch);
}

BOOST_AUTO_TEST_CASE(status_says_stale_when_the_master_is_dead) {
    snapshot s = sample(1, 1);
    BOOST_TEST(render_status(s).find("running") != std::string::npos);
    BOOST_TEST(render_status(s).find("STALE") == std::string::npos);
    s.stale = true;
    BOOST_TEST(render_status(s).find("STALE") != std::string::npos);
    BOOST_TEST(render_table(s).find("STALE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(issue_10_8_status_counts_one_worker_in_the_singular) {
    snapshot s = sample(1, 1);
    s.workers_configured = 1;
    s.restarts = 1;
    BOOST_TEST(render_status(s).find(", 1 worker configured, 1 restart\n") != std::string::npos, render_status(s));
    s.workers_configured = 2;
    s.restarts = 0;
    BOOST_TEST(render_status(s).find(", 2 workers configured, 0 restarts\n") != std::string::npos, render_status(s));
}

BOOST_AUTO_TEST_CASE(durations_have_readable_units) {
    BOOST_TEST(format_duration_ns(812) == "812ns");
    BOOST_TEST(format_duration_ns(15'200) == "15.2us");
    BOOST_TEST(format_duration_ns(3'410'000) == "3.41ms");
    BOOST_TEST(format_duration_ns(1'200'000'000) == "1.2s");
}

BOOST_AUTO_TEST_CASE(issue_16_2_no_byte_in_shm_breaks_a_renderer) {
    // Every text field of a segment (reload_message, unterminated; the instance name) full of
    // random bytes, then the whole segment random: every renderer must return, and the JSON
    // must parse (nlohmann's dump() threw type_error 316 on invalid UTF-8).
    std::mt19937_64 rng(162);
    auto seg = std::make_unique<segment_layout>();
    auto render_all = [&](std::string_view instance) {
        const snapshot s = take_snapshot(*seg, instance);
        BOOST_TEST(!render_table(s).empty());
        BOOST_TEST(!render_table(s, &s, 1.0).empty());
        BOOST_TEST(!render_status(s).empty());
        BOOST_TEST(!render_prometheus(s).empty());
        const std::string text = render_json(s);
        BOOST_TEST(nlohmann::json::accept(text), "render_json gave invalid JSON");
        return s;
    };
    for (int round = 0; round < 20; ++round) {
        auto& h = seg->header;
        h.magic = segment_magic;
        h.version = layout_version;
        h.capacity = slot_capacity;
        h.reload_seq.store(2);
        h.reload_ok.store(0);
        for (char& c : h.reload_message) c = static_cast<char>(rng() | 0x80);  // no NUL at all
        std::string instance(12, '\0');
        for (char& c : instance) c = static_cast<char>(rng());
        const snapshot s = render_all(instance);
        BOOST_TEST(!s.last_reload.message.empty());
        const auto j = nlohmann::json::parse(render_json(s));
        BOOST_TEST(j["last_reload"]["message"].get<std::string>() == s.last_reload.message);
    }
    for (int round = 0; round < 3; ++round) {
        auto* words = reinterpret_cast<std::uint64_t*>(seg.get());
        for (std::size_t i = 0; i < sizeof(segment_layout) / sizeof(std::uint64_t); ++i) words[i] = rng();
        seg->header.fold_seq.store(0);  // odd sequences only slow the reader down (tested elsewhere)
        seg->header.reload_seq.store(0);
        render_all("random");
    }
}

BOOST_AUTO_TEST_SUITE_END()
