#include "handlers/file_server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "http/field.hpp"
#include "http/request.hpp"
#include "http/request_ctx.hpp"
#include "tests/handlers/header_lines.hpp"

using namespace fastfork;
namespace fs = std::filesystem;

namespace {

// Runs "blocking" jobs inline and counts them: a cache hit must not need one.
struct inline_executor final : http::executor {
    int jobs = 0;
    void sleep(std::chrono::milliseconds) override {}
    void run_blocking(void (*fn)(void*), void* arg) override {
        ++jobs;
        fn(arg);
    }
};

struct temp_tree {
    fs::path base;
    fs::path root;
    fs::path outside;
    temp_tree() {
        std::string tmpl = (fs::temp_directory_path() / "ff-fs-test-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        base = tmpl;
        root = base / "root";
        outside = base / "outside";
        fs::create_directories(root / "dir");
        fs::create_directories(root / "empty-dir");
        fs::create_directories(outside);
        write("small.txt", "small file\n");
        write("big.bin", std::string(100'000, 'b'));
        write("big2.bin", std::string(90'000, 'c'));
        write("big3.bin", std::string(80'000, 'd'));
        write("dir/index.html", "<p>index</p>\n");
        write("style.css", std::string(4000, 's'));
        write("style.css.gz", "gzipped bytes");
        std::ofstream(outside / "secret.txt") << "TOP SECRET\n";
        fs::create_symlink(outside / "secret.txt", root / "escape.txt");
        fs::create_symlink("small.txt", root / "inside.txt");
        fs::create_directory_symlink(outside, root / "escape-dir");
    }
    ~temp_tree() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
    void write(const std::string& rel, const std::string& data) const {
        std::ofstream f(root / rel, std::ios::binary);
        f << data;
    }
};

// One request through the file server; the ctx keeps the response (and its pin) until the
// next run or the end of the test.
struct file_request {
    inline_executor exec;
    http::request req;
    http::request_ctx ctx;
    std::string target;
    std::string accept_encoding;
    std::string range;
    std::string if_none_match;

    file_request() = default;
    file_request(const file_request&) = delete;
    file_request& operator=(const file_request&) = delete;
    ~file_request() { ctx.reset(); }  // unpins, as the worker does once a response is written

    // `rest` overrides what the server is asked for (the path below a mount point).
    bool run(handlers::file_server& files,
             std::string path,
             http::method m = http::method::get,
             const char* rest = nullptr) {
        ctx.reset();
        target = std::move(path);
        req.clear();
        req.method = m;
        req.method_name = m == http::method::get ? "GET" : m == http::method::head ? "HEAD" : "POST";
        req.target = target;
        const auto q = target.find('?');
        req.path = std::string_view(target).substr(0, q);
        if (q != std::string::npos) req.query = std::string_view(target).substr(q + 1);
        if (!accept_encoding.empty())
            (void)req.headers.try_add("Accept-Encoding", accept_encoding, http::field::accept_encoding);
        if (!range.empty()) (void)req.headers.try_add("Range", range, http::field::range);
        if (!if_none_match.empty())
            (void)req.headers.try_add("If-None-Match", if_none_match, http::field::if_none_match);
        ctx.bind(&req, {}, &exec);
        return files.try_serve(ctx, rest ? std::string_view(rest) : req.path);
    }

    [[nodiscard]] std::string header(std::string_view name) {
        return test::header_value(ctx.response(), name).value_or(std::string());
    }
    [[nodiscard]] http::response& resp() { return ctx.response(); }
    [[nodiscard]] unsigned status() { return ctx.response().status(); }

    // The body as a client would get it: memory, or the file range.
    [[nodiscard]] std::string body() {
        http::response& r = ctx.response();
        if (!r.has_file_body()) return std::string(r.body());
        std::string out(r.body_file_length(), '\0');
        const ssize_t n = ::pread(r.body_file_fd(), out.data(), out.size(), static_cast<off_t>(r.body_file_offset()));
        BOOST_REQUIRE(n == static_cast<ssize_t>(out.size()));
        return out;
    }
};

handlers::options opts_with(std::size_t cache_size = 1000, int ttl_ms = 60'000) {
    handlers::options o;
    o.open_file_cache_size = cache_size;
    o.open_file_cache_ttl = handlers::millis(ttl_ms);
    return o;
}

// What a client's gunzip makes of a body (one gzip member, checked to the end).
std::string gunzip(std::string_view in) {
    z_stream zs{};
    BOOST_REQUIRE_EQUAL(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    std::string out;
    int rc = Z_OK;
    while (rc == Z_OK) {
        char buf[16384];
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    BOOST_REQUIRE_MESSAGE(rc == Z_STREAM_END, "inflate: " << rc);
    BOOST_REQUIRE_EQUAL(zs.avail_in, 0u);
    return out;
}

// Text that compresses like a real stylesheet (repetitive, not one repeated byte): 5.5 KB.
std::string stylesheet(const char* tag, std::size_t size = 5500) {
    std::string css;
    for (int i = 0; css.size() < size; ++i)
        css += "." + std::string(tag) + std::to_string(i) + " { margin: " + std::to_string(i % 17) + "px; }\n";
    css.resize(size);
    return css;
}

bool fd_is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

// The set-up most cases share: the test tree served with the default cache, and one request.
struct served_tree {
    temp_tree t;
    handlers::file_server files{t.root.string(), opts_with()};
    file_request x;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_file_server)

BOOST_FIXTURE_TEST_CASE(small_files_come_from_memory_and_hits_need_no_job, served_tree) {
    BOOST_TEST(x.run(files, "/small.txt"));
    BOOST_TEST(x.status() == 200u);
    BOOST_TEST(!x.resp().has_file_body());
    BOOST_TEST(x.body() == "small file\n");
    BOOST_TEST(x.resp().content_type() == "text/plain; charset=utf-8");
    BOOST_TEST(!x.header("ETag").empty());
    BOOST_TEST(x.exec.jobs == 1);
    BOOST_TEST(x.run(files, "/small.txt"));
    BOOST_TEST(x.body() == "small file\n");
    BOOST_TEST(x.exec.jobs == 1);  // a hit: no thread-pool job, no system call
}

BOOST_FIXTURE_TEST_CASE(large_files_are_file_bodies, served_tree) {
    BOOST_TEST(x.run(files, "/big.bin"));
    BOOST_TEST(x.resp().has_file_body());
    BOOST_TEST(x.resp().body_file_length() == 100'000u);
    BOOST_TEST(x.body() == std::string(100'000, 'b'));
    x.range = "bytes=10-19";
    BOOST_TEST(x.run(files, "/big.bin"));
    BOOST_TEST(x.status() == 206u);
    BOOST_TEST(x.resp().body_file_offset() == 10u);
    BOOST_TEST(x.header("Content-Range") == "bytes 10-19/100000");
}

BOOST_AUTO_TEST_CASE(a_pinned_descriptor_survives_eviction_until_the_response_is_reset) {
    temp_tree t;
    handlers::file_server files(t.root.string(), opts_with(1));
    file_request a, b;
    BOOST_TEST(a.run(files, "/big.bin"));
    const int fd = a.resp().body_file_fd();
    BOOST_TEST(b.run(files, "/big2.bin"));  // evicts big.bin from a cache of one
    BOOST_TEST(b.run(files, "/big3.bin"));
    BOOST_TEST(files.cached() == 1u);
    BOOST_TEST(fd_is_open(fd));
    BOOST_TEST(a.body() == std::string(100'000, 'b'));  // still the right file
    a.ctx.reset();                                      // the response is written: unpinned
    BOOST_TEST(!fd_is_open(fd));
}

BOOST_AUTO_TEST_CASE(ttl_zero_checks_the_disk_every_time) {
    temp_tree t;
    handlers::file_server files(t.root.string(), opts_with(1000, 0));
    file_request x;
    BOOST_TEST(x.run(files, "/small.txt"));
    t.write("small.txt", "changed!\n");
    BOOST_TEST(x.run(files, "/small.txt"));
    BOOST_TEST(x.body() == "changed!\n");
    BOOST_TEST(x.exec.jobs == 2);
}

BOOST_AUTO_TEST_CASE(cache_size_zero_still_serves) {
    temp_tree t;
    handlers::file_server files(t.root.string(), opts_with(0));
    file_request x;
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(x.run(files, "/big.bin"));
        BOOST_TEST(x.body().size() == 100'000u);
    }
    BOOST_TEST(files.cached() == 0u);
    BOOST_TEST(x.exec.jobs == 3);
}

BOOST_FIXTURE_TEST_CASE(directories_redirect_and_serve_their_index, served_tree) {
    BOOST_TEST(x.run(files, "/dir?a=1"));
    BOOST_TEST(x.status() == 301u);
    BOOST_TEST(x.header("Location") == "/dir/?a=1");
    BOOST_TEST(x.run(files, "/dir/"));
    BOOST_TEST(x.status() == 200u);
    BOOST_TEST(x.body() == "<p>index</p>\n");
    BOOST_TEST(x.resp().content_type() == "text/html; charset=utf-8");
    BOOST_TEST(x.run(files, "/empty-dir/"));
    BOOST_TEST(x.status() == 403u);  // no index, autoindex off
    // The mount point itself ("" below "/static/") redirects to add the slash.
    BOOST_TEST(x.run(files, "/static", http::method::get, ""));
    BOOST_TEST(x.status() == 301u);
    BOOST_TEST(x.header("Location") == "/static/");
}

BOOST_AUTO_TEST_CASE(autoindex_lists_escaped_names) {
    temp_tree t;
    t.write("empty-dir/<b>.txt", "x");
    handlers::options o = opts_with();
    o.autoindex = true;
    handlers::file_server files(t.root.string(), o);
    file_request x;
    BOOST_TEST(x.run(files, "/empty-dir/"));
    BOOST_TEST(x.status() == 200u);
    const std::string html = x.body();
    BOOST_TEST(html.find("&lt;b&gt;.txt") != std::string::npos);
    BOOST_TEST(html.find("href=\"%3Cb%3E.txt\"") != std::string::npos);
    BOOST_TEST(html.find(t.base.string()) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(refuses_what_leaves_the_root, served_tree) {
    BOOST_TEST(x.run(files, "/escape.txt"));
    BOOST_TEST(x.status() == 403u);
    BOOST_TEST(x.body().find("SECRET") == std::string::npos);
    BOOST_TEST(x.run(files, "/escape-dir/secret.txt"));
    BOOST_TEST(x.status() == 403u);
    BOOST_TEST(x.run(files, "/inside.txt"));  // a symlink that stays inside is fine
    BOOST_TEST(x.body() == "small file\n");
    BOOST_TEST(x.run(files, "/../outside/secret.txt"));
    BOOST_TEST(x.status() == 403u);
    BOOST_TEST(!x.run(files, "/..%2foutside%2fsecret.txt"));  // not found: the router answers 404
    BOOST_TEST(!x.run(files, "/missing.txt"));
    BOOST_TEST(!x.run(files, "/small.txt/"));

    handlers::options on = opts_with();
    on.follow_symlinks = true;
    handlers::file_server following(t.root.string(), on);
    BOOST_TEST(x.run(following, "/escape.txt"));
    BOOST_TEST(x.body() == "TOP SECRET\n");
}

BOOST_FIXTURE_TEST_CASE(precompressed_sibling_and_methods, served_tree) {
    x.accept_encoding = "gzip, br";
    BOOST_TEST(x.run(files, "/style.css"));
    BOOST_TEST(x.body() == "gzipped bytes");
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    BOOST_TEST(x.header("Vary") == "Accept-Encoding");
    BOOST_TEST(x.resp().content_type() == "text/css; charset=utf-8");
    x.accept_encoding.clear();
    BOOST_TEST(x.run(files, "/style.css"));
    BOOST_TEST(x.body() == std::string(4000, 's'));
    BOOST_TEST(x.header("Content-Encoding").empty());
    BOOST_TEST(x.run(files, "/style.css", http::method::post));
    BOOST_TEST(x.status() == 405u);
    BOOST_TEST(x.header("Allow") == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(a_root_that_cannot_be_opened_throws_without_serving) {
    BOOST_CHECK_THROW(handlers::file_server("/nonexistent/ff-root", opts_with()), std::runtime_error);
}

// ---------------------------------------------------------------- gzip on the fly (issue 10.7)

BOOST_AUTO_TEST_CASE(issue_10_gzips_a_stylesheet_once_and_serves_the_kept_bytes) {
    temp_tree t;
    const std::string css = stylesheet("a");
    t.write("page.css", css);
    handlers::file_server files(t.root.string(), opts_with());
    file_request x;
    x.accept_encoding = "gzip, deflate";
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 200u);
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    BOOST_TEST(x.header("Vary") == "Accept-Encoding");
    BOOST_TEST(x.resp().content_type() == "text/css; charset=utf-8");
    BOOST_TEST(x.header("Accept-Ranges").empty());  // no ranges of a coding made here
    const std::string gz = x.body();
    BOOST_TEST(gz.size() < css.size() / 3);
    BOOST_TEST(gunzip(gz) == css);
    const std::string gz_etag = x.header("ETag");
    BOOST_TEST(gz_etag.ends_with("-gzip\""));
    BOOST_TEST(x.exec.jobs == 2);  // the load, then the compression
    BOOST_TEST(files.gzip_compressions() == 1u);
    BOOST_TEST(files.gzip_cached_bytes() == gz.size());

    // Served many: the same bytes from the entry, no job.
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(x.run(files, "/page.css"));
        BOOST_TEST(x.body() == gz);
        BOOST_TEST(x.header("ETag") == gz_etag);
    }
    BOOST_TEST(x.exec.jobs == 2);
    BOOST_TEST(files.gzip_compressions() == 1u);
    BOOST_TEST(files.gzip_hits() == 3u);
    // HEAD: the gzip representation's headers and length.
    BOOST_TEST(x.run(files, "/page.css", http::method::head));
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    BOOST_TEST(x.resp().body().size() == gz.size());

    // Identity: the original, its own strong tag, still Vary.
    x.accept_encoding.clear();
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.body() == css);
    BOOST_TEST(x.header("Content-Encoding").empty());
    BOOST_TEST(x.header("Vary") == "Accept-Encoding");
    const std::string plain_etag = x.header("ETag");
    BOOST_TEST(plain_etag != gz_etag);
    BOOST_TEST(gz_etag == plain_etag.substr(0, plain_etag.size() - 1) + "-gzip\"");
}

BOOST_AUTO_TEST_CASE(issue_10_each_coding_revalidates_with_its_own_etag) {
    temp_tree t;
    t.write("page.css", stylesheet("b"));
    handlers::file_server files(t.root.string(), opts_with());
    file_request x;
    BOOST_TEST(x.run(files, "/page.css"));
    const std::string plain_etag = x.header("ETag");
    x.accept_encoding = "gzip";
    BOOST_TEST(x.run(files, "/page.css"));
    const std::string gz_etag = x.header("ETag");

    x.if_none_match = gz_etag;
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 304u);
    BOOST_TEST(x.header("ETag") == gz_etag);
    BOOST_TEST(x.header("Vary") == "Accept-Encoding");
    // The identity tag does not validate the gzip representation, and vice versa.
    x.if_none_match = plain_etag;
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 200u);
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    x.accept_encoding.clear();
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 304u);
    x.if_none_match = gz_etag;
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 200u);
    BOOST_TEST(x.header("Content-Encoding").empty());
}

BOOST_AUTO_TEST_CASE(issue_10_reloads_keep_the_bytes_of_an_unchanged_file_and_recompress_a_changed_one) {
    temp_tree t;
    const std::string v1 = stylesheet("c");
    t.write("page.css", v1);
    handlers::file_server files(t.root.string(), opts_with(1000, 0));  // TTL 0: every request reloads
    file_request x;
    x.accept_encoding = "gzip";
    BOOST_TEST(x.run(files, "/page.css"));
    const std::string gz1 = x.body();
    const std::string etag1 = x.header("ETag");
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.body() == gz1);
    BOOST_TEST(files.gzip_compressions() == 1u);  // reloaded, same version: bytes handed over
    BOOST_TEST(files.gzip_cached_bytes() == gz1.size());

    // Same size, another mtime: a new version, compressed again.
    const std::string v2 = stylesheet("C");
    BOOST_REQUIRE_EQUAL(v2.size(), v1.size());
    t.write("page.css", v2);
    fs::last_write_time(t.root / "page.css", fs::last_write_time(t.root / "page.css") + std::chrono::seconds(5));
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(files.gzip_compressions() == 2u);
    BOOST_TEST(gunzip(x.body()) == v2);
    BOOST_TEST(x.header("ETag") != etag1);
    BOOST_TEST(files.gzip_cached_bytes() == x.body().size());  // the old bytes left with the old entry
}

BOOST_AUTO_TEST_CASE(issue_10_what_is_not_gzipped_on_the_fly) {
    temp_tree t;
    t.write("tiny.css", "a { b: c }\n");           // below gzip_min_length
    t.write("photo.png", std::string(8000, 'p'));  // compresses, but not a text type
    t.write("huge.txt", std::string(handlers::file_server::gzip_max_size + 1, 'h'));
    t.write("page.css", stylesheet("d"));
    handlers::file_server files(t.root.string(), opts_with());
    file_request x;
    x.accept_encoding = "gzip";
    for (const char* name : {"/tiny.css", "/photo.png", "/huge.txt"}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(x.run(files, name));
            BOOST_TEST(x.header("Content-Encoding").empty());
            BOOST_TEST(x.header("Vary").empty());  // nothing varies
        }
    }
    // Refused codings: q=0, identity only, no field.
    for (const char* ae : {"gzip;q=0", "identity", "br"}) {
        BOOST_TEST_CONTEXT(ae) {
            x.accept_encoding = ae;
            BOOST_TEST(x.run(files, "/page.css"));
            BOOST_TEST(x.header("Content-Encoding").empty());
            BOOST_TEST(x.header("Vary") == "Accept-Encoding");
        }
    }
    // A range is a range of the original, with the original's validators.
    x.accept_encoding = "gzip";
    x.range = "bytes=0-9";
    BOOST_TEST(x.run(files, "/page.css"));
    BOOST_TEST(x.status() == 206u);
    BOOST_TEST(x.header("Content-Encoding").empty());
    BOOST_TEST(x.body() == stylesheet("d").substr(0, 10));
    BOOST_TEST(files.gzip_compressions() == 0u);
    // The .gz sibling is preferred over compressing; gzip off compresses nothing.
    x.range.clear();
    BOOST_TEST(x.run(files, "/style.css"));
    BOOST_TEST(x.body() == "gzipped bytes");
    BOOST_TEST(files.gzip_compressions() == 0u);
    handlers::options off = opts_with();
    off.gzip = false;
    handlers::file_server plain(t.root.string(), off);
    BOOST_TEST(x.run(plain, "/page.css"));
    BOOST_TEST(x.header("Content-Encoding").empty());
    BOOST_TEST(x.header("Vary").empty());
}

BOOST_AUTO_TEST_CASE(issue_10_gzip_bytes_are_counted_against_the_budget) {
    temp_tree t;
    handlers::options o = opts_with();
    o.gzip_cache_budget = 1;  // smaller than any one file: only the latest keeps its bytes
    handlers::file_server files(t.root.string(), o);
    for (const char* n : {"a", "b", "c"}) t.write(std::string(n) + ".css", stylesheet(n, 20'000));
    file_request x;
    x.accept_encoding = "gzip";
    BOOST_TEST(x.run(files, "/a.css"));
    const std::size_t a_size = x.body().size();
    BOOST_TEST(files.gzip_cached_bytes() == a_size);
    BOOST_TEST(x.run(files, "/b.css"));  // a.css holds gzip bytes at the cold end: evicted
    BOOST_TEST(gunzip(x.body()) == stylesheet("b", 20'000));
    BOOST_TEST(files.gzip_cached_bytes() == x.body().size());
    BOOST_TEST(files.cached() == 1u);
    BOOST_TEST(x.run(files, "/a.css"));  // compressed again
    BOOST_TEST(files.gzip_compressions() == 3u);
    BOOST_TEST(gunzip(x.body()) == stylesheet("a", 20'000));
    x.ctx.reset();
    // An entry evicted by count takes its bytes out of the account too.
    handlers::file_server one(t.root.string(), opts_with(1));
    BOOST_TEST(x.run(one, "/c.css"));
    BOOST_TEST(one.gzip_cached_bytes() > 0u);
    BOOST_TEST(x.run(one, "/small.txt"));
    BOOST_TEST(one.gzip_cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(issue_10_gzip_on_the_fly_beside_a_br_sibling) {
    temp_tree t;
    const std::string js = stylesheet("e");
    t.write("app.js", js);
    t.write("app.js.br", "brotli bytes");
    handlers::file_server files(t.root.string(), opts_with());
    file_request x;
    x.accept_encoding = "br, gzip";
    BOOST_TEST(x.run(files, "/app.js"));
    BOOST_TEST(x.body() == "brotli bytes");
    x.accept_encoding = "gzip";
    BOOST_TEST(x.run(files, "/app.js"));
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    BOOST_TEST(gunzip(x.body()) == js);
    x.accept_encoding = "br;q=0.5, gzip";
    BOOST_TEST(x.run(files, "/app.js"));
    BOOST_TEST(x.header("Content-Encoding") == "gzip");
    BOOST_TEST(files.gzip_compressions() == 1u);
}

// While one request's compression job runs, the fiber is suspended and others are served: they
// get the original (no second job for the same bytes) and are told the answer varies.
BOOST_AUTO_TEST_CASE(issue_10_requests_during_the_compression_get_the_original) {
    temp_tree t;
    const std::string css = stylesheet("f");
    t.write("page.css", css);
    handlers::file_server files(t.root.string(), opts_with());
    struct interleaving_executor final : http::executor {
        handlers::file_server* files = nullptr;
        file_request* other = nullptr;
        int jobs = 0;
        void sleep(std::chrono::milliseconds) override {}
        void run_blocking(void (*fn)(void*), void* arg) override {
            if (++jobs == 2) {  // the compression: another fiber's request arrives meanwhile
                BOOST_TEST(other->run(*files, "/page.css"));
            }
            fn(arg);
        }
    };
    file_request other;
    other.accept_encoding = "gzip";
    interleaving_executor exec;
    exec.files = &files;
    exec.other = &other;
    http::request req;
    req.method = http::method::get;
    req.method_name = "GET";
    req.target = req.path = "/page.css";
    (void)req.headers.try_add("Accept-Encoding", "gzip", http::field::accept_encoding);
    http::request_ctx ctx;
    ctx.bind(&req, {}, &exec);
    BOOST_TEST(files.try_serve(ctx, "/page.css"));
    BOOST_TEST(gunzip(ctx.response().body()) == css);
    BOOST_TEST(other.status() == 200u);
    BOOST_TEST(other.header("Content-Encoding").empty());
    BOOST_TEST(other.header("Vary") == "Accept-Encoding");
    BOOST_TEST(other.body() == css);
    BOOST_TEST(files.gzip_compressions() == 1u);
    ctx.reset();
    BOOST_TEST(other.run(files, "/page.css"));  // done now: the kept bytes
    BOOST_TEST(other.header("Content-Encoding") == "gzip");
}

BOOST_AUTO_TEST_SUITE_END()
