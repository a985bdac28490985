// libFuzzer target for http::parser (and, after a complete head, the body_reader with the framing
// the parser chose). Besides crashes and sanitizer reports it checks the parser's contract:
// consumed never exceeds the input, every view of a parsed request lies inside the fed buffer,
// and the result is the same whether the bytes arrive at once, split at a point derived from the
// input (so the fuzzer steers it), one byte at a time, or with the buffer moved between feeds.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "http/body_reader.hpp"
#include "http/parser.hpp"

using namespace fastfork::http;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "parser_fuzz: invariant violated: %s\n", what);
    std::abort();
}

// A view as (offset, size) from the buffer start, so results of different buffers compare.
struct span {
    std::size_t offset = 0;
    std::size_t size = 0;
    bool operator==(const span&) const = default;
};

struct header_span {
    span name;
    span value;
    field id = field::unknown;
    bool operator==(const header_span&) const = default;
};

struct outcome {
    parser::state state = parser::state::need_more;
    error err = error::none;
    std::size_t consumed = 0;
    method m = method::other;
    span method_name, target, path, query, host;
    target_form form = target_form::origin;
    std::uint8_t minor = 0;
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0;
    bool keep_alive = false;
    bool expect_continue = false;
    bool has_upgrade = false;
    std::size_t header_count = 0;
    std::array<header_span, header_capacity> headers{};
    bool operator==(const outcome&) const = default;
};

span to_span(std::string_view v, const char* base, std::size_t size) {
    if (v.data() == nullptr) {
        check(v.empty(), "null view with a size");
        return {};
    }
    check(v.data() >= base && v.data() + v.size() <= base + size, "view outside the input");
    return {static_cast<std::size_t>(v.data() - base), v.size()};
}

outcome describe(const parser& p, parser::result r, const char* base, std::size_t size) {
    outcome o;
    o.state = r.state;
    o.err = r.err;
    check((r.state == parser::state::error) == (r.err != error::none), "error state and code disagree");
    if (r.state != parser::state::done) return o;
    check(r.consumed <= size, "consumed > size");
    check(r.consumed >= 4, "a complete head has at least one CRLF CRLF");
    check(std::memcmp(base + r.consumed - 2, "\r\n", 2) == 0, "head does not end with CRLF");
    const request& q = p.get();
    o.consumed = r.consumed;
    o.m = q.method;
    // Views must lie inside the head itself, not only inside the input.
    o.method_name = to_span(q.method_name, base, r.consumed);
    o.target = to_span(q.target, base, r.consumed);
    o.path = to_span(q.path, base, r.consumed);
    o.query = to_span(q.query, base, r.consumed);
    o.host = to_span(q.host, base, r.consumed);
    o.form = q.form;
    o.minor = q.version_minor;
    check(o.minor <= 1, "version other than 1.0/1.1 accepted");
    o.framing = q.framing;
    o.content_length = q.content_length;
    o.keep_alive = q.keep_alive;
    o.expect_continue = q.expect_continue;
    o.has_upgrade = q.has_upgrade;
    o.header_count = q.headers.size();
    for (std::size_t i = 0; i < q.headers.size(); ++i) {
        const header_field& h = q.headers[i];
        check(!h.name.empty(), "empty field name");
        o.headers[i] = {to_span(h.name, base, r.consumed), to_span(h.value, base, r.consumed), h.id};
        check(h.id == lookup_field(h.name), "field id does not match its name");
        for (char c : h.value) {
            auto u = static_cast<unsigned char>(c);
            check(u == '\t' || (u >= 0x20 && u != 0x7F), "CTL inside an accepted field value");
        }
    }
    check(!(q.framing == body_framing::chunked && q.headers.has(field::content_length)), "CL with chunked");
    return o;
}

// Exactly sized heap copies, so ASan reports any read past the input.
std::unique_ptr<char[]> copy_of(const std::uint8_t* data, std::size_t size) {
    auto buf = std::make_unique<char[]>(size == 0 ? 1 : size);
    if (size != 0) std::memcpy(buf.get(), data, size);
    return buf;
}

outcome run_whole(const std::uint8_t* data, std::size_t size, const limits& lim, bool normalize) {
    auto buf = copy_of(data, size);
    parser p(lim, normalize);
    auto r = p.feed(buf.get(), size);
    return describe(p, r, buf.get(), size);
}

// Feeds [0, split), then moves the bytes to a new buffer (poisoning the old one) and feeds all.
outcome run_split(const std::uint8_t* data, std::size_t size, std::size_t split, const limits& lim) {
    auto first = copy_of(data, size);
    parser p(lim, true);
    auto r = p.feed(first.get(), split);
    if (r.state != parser::state::need_more) {
        check(r.state != parser::state::done || r.consumed <= split, "consumed > size");
        return describe(p, r, first.get(), size);
    }
    auto second = copy_of(reinterpret_cast<const std::uint8_t*>(first.get()), size);
    std::memset(first.get(), 0xA5, size);
    r = p.feed(second.get(), size);
    return describe(p, r, second.get(), size);
}

outcome run_bytewise(const std::uint8_t* data, std::size_t size, const limits& lim) {
    auto buf = copy_of(data, size);
    parser p(lim, true);
    parser::result r;
    for (std::size_t i = 0; i <= size; ++i) {
        r = p.feed(buf.get(), i);
        if (r.state != parser::state::need_more) break;
    }
    return describe(p, r, buf.get(), size);
}

// Decodes whatever follows a complete head with the framing the parser found, in place and into a
// separate buffer; both must agree and stay inside the input.
void run_body(const std::uint8_t* data, std::size_t size, const limits& lim) {
    auto buf = copy_of(data, size);
    parser p(lim, true);
    auto r = p.feed(buf.get(), size);
    if (r.state != parser::state::done) return;
    const std::size_t rest = size - r.consumed;
    auto separate = std::make_unique<char[]>(rest + 1);
    char* in = buf.get() + r.consumed;
    body_reader a;
    body_reader b;
    a.start(p.get(), lim.max_body);
    b.start(p.get(), lim.max_body);
    auto ra = a.feed(in, rest, separate.get());
    auto rb = b.feed(in, rest, in);
    check(ra.consumed <= rest && ra.produced <= ra.consumed, "body reader overran its input");
    check(ra.state == rb.state && ra.err == rb.err && ra.consumed == rb.consumed && ra.produced == rb.produced,
          "in-place body decode differs");
    check(std::memcmp(separate.get(), in, ra.produced) == 0, "in-place body bytes differ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A split point the fuzzer controls through the input bytes.
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
    const std::size_t split = size == 0 ? 0 : static_cast<std::size_t>(h % (size + 1));

    limits tight;  // small enough that the 414/431 paths are reachable with short inputs
    tight.max_request_line = 64;
    tight.max_head = 512;
    tight.max_headers = 8;
    tight.max_body = 256;

    for (const limits& lim : {limits{}, tight}) {
        const outcome whole = run_whole(data, size, lim, true);
        check(run_whole(data, size, lim, false) == whole, "result depends on name normalization");
        check(run_split(data, size, split, lim) == whole, "result depends on the split point");
        check(run_split(data, size, size / 2, lim) == whole, "result depends on the split point");
        if (size <= 4096) check(run_bytewise(data, size, lim) == whole, "byte-at-a-time result differs");
        run_body(data, size, lim);
    }
    return 0;
}
