// The steady state of a keep-alive request allocates nothing (fasthttp's allocation_test.go):
// parse, decode a chunked body, fill a request_ctx, serialize, reset, 10,000 times, with
// every heap entry point counted.
//
// operator new is replaced (all variants, so nothing bypasses the count). byte_buffer grows with
// malloc/realloc, which operator new never sees, so malloc, calloc, realloc and free are also
// interposed and forwarded to glibc's __libc_* entry points. AddressSanitizer owns those symbols
// itself, so under ASan only operator new is counted.

#include "http/body_reader.hpp"
#include "http/date.hpp"
#include "http/parser.hpp"
#include "http/request_ctx.hpp"
#include "http/response.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define FF_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FF_COUNT_MALLOC 0
#endif
#endif
#if !defined(FF_COUNT_MALLOC) && defined(__GLIBC__)
#define FF_COUNT_MALLOC 1
#endif
#if !defined(FF_COUNT_MALLOC)
#define FF_COUNT_MALLOC 0
#endif

namespace {

std::atomic<std::uint64_t> new_calls{0};
std::atomic<std::uint64_t> malloc_calls{0};

void* counted_new(std::size_t n) {
    new_calls.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}

void* counted_new_aligned(std::size_t n, std::align_val_t al) {
    new_calls.fetch_add(1, std::memory_order_relaxed);
    const auto a = static_cast<std::size_t>(al);
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t size = (n + a - 1) / a * a;
    if (void* p = std::aligned_alloc(a, size ? size : a)) return p;
    throw std::bad_alloc();
}

}  // namespace

// NOLINTBEGIN: the replaceable global allocation functions ([new.delete]).
void* operator new(std::size_t n) {
    return counted_new(n);
}
void* operator new[](std::size_t n) {
    return counted_new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_new(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return counted_new(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new(std::size_t n, std::align_val_t al) {
    return counted_new_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al) {
    return counted_new_aligned(n, al);
}
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    try {
        return counted_new_aligned(n, al);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
    try {
        return counted_new_aligned(n, al);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(p);
}
// NOLINTEND

#if FF_COUNT_MALLOC
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) noexcept {
    malloc_calls.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
void free(void* p) noexcept {
    __libc_free(p);
}
}
#endif

using namespace fastfork::http;

namespace {

struct alloc_counts {
    std::uint64_t news;
    std::uint64_t mallocs;
};

alloc_counts snapshot() {
    return {new_calls.load(std::memory_order_relaxed), malloc_calls.load(std::memory_order_relaxed)};
}

// A request the connection loop would see, from a keep-alive client.
constexpr std::string_view get_request =
    "GET /search?q=fast+fork&page=2&lang=en HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=abc123; theme=dark\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

constexpr std::string_view chunked_request =
    "POST /upload?name=report%20final.txt HTTP/1.1\r\n"
    "Host: localhost\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5\r\nhello\r\n"
    "7;ext=1\r\n, world\r\n"
    "0\r\n"
    "X-Trailer: t\r\n"
    "\r\n";

constexpr std::string_view head_request_10 =
    "HEAD /index.html HTTP/1.0\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

// Everything one request costs in http/: parse, decode, handle, serialize, reset. Returns the
// number of things that went wrong, so the measured loop needs no Boost.Test macro (those
// allocate).
struct request_cycle {
    parser p;
    body_reader reader;
    request_ctx ctx;
    date_cache dates;
    byte_buffer out;
    std::array<char, 1024> in{};
    int value = 0;

    unsigned run(std::string_view raw, std::time_t now) {
        unsigned failures = 0;
        // The parser normalizes names and the body is decoded in place: work on a fresh copy.
        std::memcpy(in.data(), raw.data(), raw.size());
        p.reset();
        const auto head = p.feed(in.data(), raw.size());
        if (head.state != parser::state::done) return 1;
        const request& req = p.get();

        std::string_view body;
        if (req.framing != body_framing::none) {
            reader.start(req, 1 << 20);
            char* start = in.data() + head.consumed;
            const auto b = reader.feed(start, raw.size() - head.consumed, start);
            if (b.state != body_reader::state::done) return 1;
            body = {start, b.produced};
        }

        ctx.bind(&req, body, nullptr);
        ctx.set_connection(1, 1);
        if (ctx.query_string().size() != 0 && ctx.args().size() == 0) ++failures;
        (void)ctx.arg("q");
        (void)ctx.header(field::user_agent);
        (void)ctx.header("cookie");
        if (!ctx.set_user_value("user", &value)) ++failures;
        if (ctx.user_value("user") != &value) ++failures;

        ctx.set_status(200);
        ctx.set_content_type("text/plain; charset=utf-8");
        ctx.add_header("X-Request-Id", "0123456789abcdef");
        ctx.add_header("Cache-Control", "no-store");
        if (body.empty()) {
            ctx.set_body("Hello, World!");
        } else {
            ctx.set_body(body);
            ctx.append_body(ctx.arg("name"));
        }
        ctx.response().set_chunked(req.method == method::post);

        write_options opt;
        opt.version_minor = req.version_minor;
        opt.head_request = ctx.is_head();
        opt.keep_alive = req.keep_alive;
        opt.date = dates.get(now);
        opt.server = "fastfork";
        if (!write_response(ctx.response(), opt, out)) ++failures;
        write_error_response(431, opt.date, opt.server, out);
        out.clear();
        ctx.reset();
        return failures;
    }
};

// The writer and ctx alone, with a hand-built request (no parser).
struct writer_cycle {
    request req;
    request_ctx ctx;
    date_cache dates;
    byte_buffer out;

    writer_cycle() {
        req.method = method::get;
        req.method_name = "GET";
        req.target = "/plaintext?a=1&b=two+words";
        req.path = "/plaintext";
        req.query = "a=1&b=two+words";
        (void)req.headers.try_add("Host", "localhost", field::host);
    }

    unsigned run(std::time_t now) {
        unsigned failures = 0;
        ctx.bind(&req, {}, nullptr);
        if (ctx.arg("b") != "two words") ++failures;
        ctx.set_status(200);
        ctx.set_content_type("text/plain");
        ctx.add_header("X-Powered-By", "fastfork");
        ctx.set_body("Hello, World!");
        write_options opt;
        opt.date = dates.get(now);
        opt.server = "fastfork";
        if (!write_response(ctx.response(), opt, out)) ++failures;
        write_chunk("chunk", out);
        write_last_chunk(out);
        out.clear();
        ctx.reset();
        return failures;
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_alloc)

BOOST_AUTO_TEST_CASE(counting_hooks_see_allocations) {
    // Guards the test itself: a hook that counted nothing would make the zero checks vacuous.
    static int* volatile sink;  // volatile: the compiler may not elide the new/delete pair
    const auto before = snapshot();
    sink = new int(1);
    delete sink;
    byte_buffer b;
    b.reserve(4096);
    const auto after = snapshot();
    BOOST_TEST(after.news - before.news == 1u);
#if FF_COUNT_MALLOC
    BOOST_TEST(after.mallocs - before.mallocs >= 2u);
#endif
}

BOOST_AUTO_TEST_CASE(writer_and_ctx_allocate_nothing_after_warm_up) {
    auto cycle = std::make_unique<writer_cycle>();
    unsigned failures = 0;
    for (int i = 0; i < 100; ++i) failures += cycle->run(1700000000 + i);
    const std::size_t out_capacity = cycle->out.capacity();
    const auto before = snapshot();
    for (int i = 0; i < 10000; ++i) failures += cycle->run(1700000000 + i / 100);
    const auto after = snapshot();
    BOOST_TEST(failures == 0u);
    BOOST_TEST(after.news - before.news == 0u);
    BOOST_TEST(after.mallocs - before.mallocs == 0u);
    BOOST_TEST(cycle->out.capacity() == out_capacity);
}

BOOST_AUTO_TEST_CASE(keep_alive_request_cycle_allocates_nothing_after_warm_up) {
    auto cycle = std::make_unique<request_cycle>();
    const std::string_view requests[] = {get_request, chunked_request, head_request_10};
    unsigned failures = 0;
    for (int i = 0; i < 100; ++i)
        for (auto r : requests) failures += cycle->run(r, 1700000000 + i);
    BOOST_TEST_REQUIRE(failures == 0u);
    const auto before = snapshot();
    for (int i = 0; i < 10000; ++i)
        for (auto r : requests) failures += cycle->run(r, 1700000000 + i / 100);
    const auto after = snapshot();
    BOOST_TEST(failures == 0u);
    BOOST_TEST(after.news - before.news == 0u);
    BOOST_TEST(after.mallocs - before.mallocs == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
