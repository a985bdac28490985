// A test program on fastfork::serve with handlers no real server would have: one that spins
// forever (the heartbeat watchdog must replace its worker, after its backtrace names
// spin_in_handler_forever: the program is linked with -rdynamic), one that throws, one that leaks
// 8 MiB per request (max_worker_memory must recycle its worker), and a worker set-up that fails
// on demand (a reload must roll back), and handlers that stream long responses (/chunks?n=N,
// /bytes?mib=N). Flags are config keys, like fastfork's.
// on demand (a reload must roll back); /hijack takes its connection over after the response and
// echoes raw bytes (worker/hijack.hpp), /ws-throw is a WebSocket whose handler throws (1011).
// Flags are config keys, like fastfork's.
//
//   test_app [-c FILE] [--single-process] [--KEY VALUE ...]
//   FF_TEST_FAIL_MARKER=PATH: while PATH exists, every new worker's set-up throws.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "handlers/router.hpp"
#include "master/fastfork.hpp"
#include "master/master.hpp"
#include "worker/hijack.hpp"
#include "worker/websocket_session.hpp"

// Out of line and exported, so that the hang report's frames name it.
[[noreturn]] void spin_in_handler_forever();
__attribute__((noinline, visibility("default"))) void spin_in_handler_forever() {
    // A handler stuck in a loop: it never yields, so the worker's loop (and heartbeat) stop.
    std::atomic<unsigned long> spins{0};
    for (;;) spins.fetch_add(1, std::memory_order_relaxed);
}

namespace {
constexpr std::size_t leak_bytes = 8u << 20;

// Memory a handler keeps for good, touched so that it is resident (counts in RSS).
void leak_resident_memory() {
    static std::vector<std::unique_ptr<char[]>> kept;
    kept.emplace_back(new char[leak_bytes]);
    std::memset(kept.back().get(), 0x5a, leak_bytes);
}
// Streams `n` chunks ("chunk 1\n"…), one ctx.write each: the response is as long as the
// handler wants, and its memory is the output buffer's.
void stream_chunks(fastfork::RequestCtx& ctx) {
    const std::string_view text = ctx.arg("n");
    const unsigned long n = std::strtoul(std::string(text).c_str(), nullptr, 10);
    ctx.set_content_type("text/plain");
    char line[32];
    for (unsigned long i = 1; i <= n; ++i) {
        const int len = std::snprintf(line, sizeof line, "chunk %lu\n", i);
        if (ctx.write(std::string_view(line, static_cast<std::size_t>(len)))) return;  // the client left
    }
}

// Streams `mib` MiB of a repeating pattern in 16 KiB writes, sized or (?chunked=1) chunked.
void stream_bytes(fastfork::RequestCtx& ctx) {
    const unsigned long mib = std::strtoul(std::string(ctx.arg("mib")).c_str(), nullptr, 10);
    static char piece[16 * 1024];
    for (std::size_t i = 0; i < sizeof piece; ++i) piece[i] = static_cast<char>('a' + i % 26);
    ctx.set_content_type("application/octet-stream");
    if (ctx.arg("chunked") != "1") ctx.set_content_length(std::uint64_t{mib} << 20);
    for (unsigned long i = 0; i < mib * 64; ++i)
        if (ctx.write(std::string_view(piece, sizeof piece))) return;
}

// fasthttp's Hijack: after "200 hijacking", every byte the client sends comes back, on the
// request's fiber, until the client closes; a drain ends it with "draining\n".
class echo_takeover final : public fastfork::worker::stream_takeover {
public:
    void serve(fastfork::worker::byte_stream& s) override {
        char buf[4096];
        for (;;) {
            auto r = s.read(buf, sizeof buf);
            if (r.error != 0) {
                if (s.is_draining()) s.write("draining\n");
                return;
            }
            if (s.write(std::string_view(buf, r.bytes)).error != 0) return;
        }
    }
};

class throwing_ws final : public fastfork::worker::websocket_handler {
public:
    void on_message(fastfork::worker::websocket_conn&, fastfork::worker::ws::opcode, std::string_view) override {
        throw std::runtime_error("websocket handler failed on purpose");
    }
};
}  // namespace

int main(int argc, char** argv) {
    std::string path;
    fastfork::master::overrides flags;
    bool single = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--single-process") {
            single = true;
        } else if (arg == "-c" && i + 1 < argc) {
            path = argv[++i];
        } else if (arg.rfind("--", 0) == 0 && i + 1 < argc) {
            std::string key = arg.substr(2);
            for (char& c : key)
                if (c == '-') c = '_';
            flags.emplace_back(key, argv[++i]);
        } else {
            std::fprintf(stderr, "test_app: bad argument %s\n", arg.c_str());
            return 1;
        }
    }
    fastfork::Config cfg;
    if (auto err = fastfork::master::build_config(path, flags, cfg)) {
        std::fprintf(stderr, "test_app: %s\n", err->message.c_str());
        return 1;
    }
    cfg.single_process = single;
    // Everything else goes where `fastfork` sends it: the same routes, built the same way.
    fastfork::handlers::routed_handler routes(fastfork::handlers::standard_route_factories());
    auto handler = [routes](fastfork::RequestCtx& ctx) {
        if (ctx.path() == "/spin") spin_in_handler_forever();
        if (ctx.path() == "/leak") {
            leak_resident_memory();
            ctx.set_body_static("leaked 8 MiB\n");
            return;
        }
        if (ctx.path() == "/throw") throw std::runtime_error("handler failed on purpose");
        if (ctx.path() == "/chunks") return stream_chunks(ctx);
        if (ctx.path() == "/bytes") return stream_bytes(ctx);
        if (ctx.path() == "/hijack") {
            static echo_takeover echo;
            ctx.set_body_static("hijacking\n");
            fastfork::worker::hijack(ctx, echo);
            return;
        }
        if (ctx.path() == "/ws-throw") {
            static const fastfork::worker::websocket_route route;
            static throwing_ws h;
            fastfork::worker::upgrade_websocket(ctx, route, h);
            return;
        }
        routes(ctx);
    };
    auto init = [] {
        const char* marker = std::getenv("FF_TEST_FAIL_MARKER");
        if (marker && ::access(marker, F_OK) == 0) throw std::runtime_error("worker set-up failed on demand");
    };
    if (single) return fastfork::Server(handler, cfg).listen_and_serve();
    fastfork::master::master_process m(cfg, flags, handler, init);
    return m.run();
}
