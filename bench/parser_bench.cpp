// Micro-benchmarks of the request parser and the response writer: the two pieces of http/ that
// run once per request. Items are requests, so Google Benchmark's items_per_second inverts to
// ns/request.

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/date.hpp"
#include "http/parser.hpp"
#include "http/request_ctx.hpp"
#include "http/response.hpp"

namespace {

using namespace fastfork::http;

// What Chrome sends for a top-level navigation: about 500 bytes of head.
constexpr std::string_view browser_get =
    "GET /articles/2024/fastfork-design?utm_source=news&ref=home HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"120\", \"Not?A_Brand\";v=\"24\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=8f2b1c9d4e; theme=dark\r\n"
    "\r\n";

// The request wrk sends in the TechEmpower plaintext test.
constexpr std::string_view plaintext_get =
    "GET /plaintext HTTP/1.1\r\n"
    "Host: tfb-server:8080\r\n"
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

// Feeds the same bytes repeatedly. Name normalization rewrites names in place, but the result is
// idempotent, so every iteration parses identical input.
void parse_one(benchmark::State& state, std::string_view raw) {
    std::vector<char> buf(raw.begin(), raw.end());
    parser p;
    for (auto _ : state) {
        p.reset();
        auto r = p.feed(buf.data(), buf.size());
        if (r.state != parser::state::done) {
            state.SkipWithError("parse failed");
            break;
        }
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(p.get().headers.size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
}

void bm_parse_browser_get(benchmark::State& state) {
    parse_one(state, browser_get);
}
BENCHMARK(bm_parse_browser_get);

void bm_parse_plaintext(benchmark::State& state) {
    parse_one(state, plaintext_get);
}
BENCHMARK(bm_parse_plaintext);

// wrk's pipelined plaintext run (-- 16): sixteen requests in one read.
void bm_parse_pipelined_plaintext_16(benchmark::State& state) {
    constexpr int depth = 16;
    std::string all;
    for (int i = 0; i < depth; ++i) all += plaintext_get;
    std::vector<char> buf(all.begin(), all.end());
    parser p;
    for (auto _ : state) {
        std::size_t at = 0;
        for (int i = 0; i < depth; ++i) {
            p.reset();
            auto r = p.feed(buf.data() + at, buf.size() - at);
            if (r.state != parser::state::done) {
                state.SkipWithError("parse failed");
                return;
            }
            at += r.consumed;
        }
        benchmark::DoNotOptimize(at);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * all.size()));
}
BENCHMARK(bm_parse_pipelined_plaintext_16);

// The plaintext response: "Hello, World!" with Server and Date, into a warm output buffer.
void bm_write_plaintext_response(benchmark::State& state) {
    response resp;
    resp.set_content_type("text/plain");
    resp.set_body_static("Hello, World!");
    date_cache dates;
    write_options opt;
    opt.date = dates.get(1700000000);
    opt.server = "fastfork";
    byte_buffer out(4096);
    for (auto _ : state) {
        out.clear();
        benchmark::DoNotOptimize(write_response(resp, opt, out));
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_write_plaintext_response);

// Everything http/ does for one plaintext request: parse, bind the ctx, answer, serialize, reset.
void bm_plaintext_request_cycle(benchmark::State& state) {
    std::vector<char> buf(plaintext_get.begin(), plaintext_get.end());
    parser p;
    request_ctx ctx;
    date_cache dates;
    byte_buffer out(4096);
    std::time_t now = 1700000000;
    for (auto _ : state) {
        p.reset();
        auto r = p.feed(buf.data(), buf.size());
        if (r.state != parser::state::done) {
            state.SkipWithError("parse failed");
            break;
        }
        ctx.bind(&p.get(), {}, nullptr);
        ctx.set_content_type("text/plain");
        ctx.set_body_static("Hello, World!");
        write_options opt;
        opt.keep_alive = p.get().keep_alive;
        opt.date = dates.get(now);
        opt.server = "fastfork";
        benchmark::DoNotOptimize(write_response(ctx.response(), opt, out));
        out.clear();
        ctx.reset();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(bm_plaintext_request_cycle);

}  // namespace
