// libFuzzer target for http::body_reader. The input is a chunked body (optionally followed by more
// bytes); it is decoded in place and into a separate buffer, whole, split at a point derived from
// the input, and one byte at a time. All of them must agree, never consume more than they were
// given, never produce more than they consumed, and use up every byte while more is needed.
// A Content-Length decode of the same bytes checks the simple framing's bounds too.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "http/body_reader.hpp"

using namespace fastfork::http;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "chunked_fuzz: invariant violated: %s\n", what);
    std::abort();
}

struct outcome {
    body_reader::state state = body_reader::state::need_more;
    error err = error::none;
    std::size_t consumed = 0;  // input position where decoding stopped
    std::vector<char> body;
};

bool same(const outcome& a, const outcome& b) {
    return a.state == b.state && a.err == b.err && a.consumed == b.consumed && a.body == b.body;
}

// Feeds the input as it grows to each cut, handing the reader only what it has not consumed yet.
outcome decode(const std::uint8_t* data,
               std::size_t size,
               const request& req,
               std::uint64_t max_body,
               const std::vector<std::size_t>& cuts,
               bool in_place) {
    auto buf = std::make_unique<char[]>(size + 1);
    if (size != 0) std::memcpy(buf.get(), data, size);
    auto separate = std::make_unique<char[]>(size + 1);
    body_reader reader;
    reader.start(req, max_body);
    std::size_t pos = 0;
    std::size_t produced = 0;
    outcome o;
    for (std::size_t k = 0; k <= cuts.size(); ++k) {
        const std::size_t avail = k < cuts.size() ? cuts[k] : size;
        if (avail < pos) continue;
        char* out = (in_place ? buf.get() : separate.get()) + produced;
        auto r = reader.feed(buf.get() + pos, avail - pos, out);
        check(r.consumed <= avail - pos, "consumed more than given");
        check(r.produced <= r.consumed, "produced more than consumed");
        check(r.state != body_reader::state::need_more || r.consumed == avail - pos, "held back input");
        check((r.state == body_reader::state::error) == (r.err != error::none), "error state and code disagree");
        pos += r.consumed;
        produced += r.produced;
        check(reader.total() == produced, "total() disagrees with produced bytes");
        check(produced <= max_body, "decoded more than max_body");
        if (r.state != body_reader::state::need_more) {
            check(reader.is_done() == (r.state == body_reader::state::done), "is_done() disagrees");
            o.state = r.state;
            o.err = r.err;
            break;
        }
    }
    o.consumed = pos;
    const char* body = in_place ? buf.get() : separate.get();
    if (o.state == body_reader::state::done) o.body.assign(body, body + produced);
    return o;
}

void run(const std::uint8_t* data, std::size_t size, const request& req, std::uint64_t max_body, std::size_t split) {
    const outcome whole = decode(data, size, req, max_body, {}, false);
    check(same(decode(data, size, req, max_body, {}, true), whole), "in-place decode differs");
    check(same(decode(data, size, req, max_body, {split}, true), whole), "split decode differs");
    check(same(decode(data, size, req, max_body, {split}, false), whole), "split decode differs");
    if (size <= 1024) {
        std::vector<std::size_t> every;
        for (std::size_t i = 0; i <= size; ++i) every.push_back(i);
        check(same(decode(data, size, req, max_body, every, true), whole), "byte-at-a-time decode differs");
    }
    if (whole.state == body_reader::state::done && req.framing == body_framing::chunked) {
        // A decoded chunked body ends with the CRLF of an empty line (RFC 9112 §7.1).
        check(whole.consumed >= 5 && std::memcmp(data + whole.consumed - 2, "\r\n", 2) == 0, "bad body end");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
    const std::size_t split = static_cast<std::size_t>(h % (size + 1));

    request chunked;
    chunked.framing = body_framing::chunked;
    run(data, size, chunked, 4 * 1024 * 1024, split);
    run(data, size, chunked, 64, split);  // small enough for body_too_large to be reachable

    request sized;
    sized.framing = body_framing::content_length;
    sized.content_length = (h >> 32) % (size + 2);
    run(data, size, sized, 4 * 1024 * 1024, split);
    run(data, size, sized, size / 2, split);
    return 0;
}
