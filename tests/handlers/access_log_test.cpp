#include "handlers/access_log.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "http/parser.hpp"
#include "tests/handlers/parsed_request.hpp"

using namespace fastfork;

namespace {

handlers::access_time fixed_time() {
    handlers::access_time t;
    t.set(971211336);  // 2000-10-10T20:55:36Z
    return t;
}

std::string line(handlers::log_format f, const handlers::access_entry& e, unsigned worker_slot = 3) {
    http::byte_buffer out;
    handlers::format_access_line(f, e, fixed_time(), worker_slot, out);
    return std::string(out.view());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t count_lines(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += c == '\n';
    return n;
}

struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/ff-access-log-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(tmpl));
        path = tmpl;
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// The set-up of the logger cases: a logger not yet open and the file path it is to write.
struct log_file {
    temp_dir dir;
    const std::string path = dir.path + "/access.log";
    handlers::access_logger log;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_access_log)

BOOST_AUTO_TEST_CASE(formats_the_time_in_both_forms) {
    auto t = fixed_time();
    BOOST_CHECK_EQUAL(std::string(t.combined, t.combined_size), "[10/Oct/2000:20:55:36 +0000]");
    BOOST_CHECK_EQUAL(std::string(t.iso, t.iso_size), "2000-10-10T20:55:36Z");
}

BOOST_AUTO_TEST_CASE(combined_line_has_every_field) {
    test::parsed_request req("GET /a/b?c=1 HTTP/1.1\r\nHost: x\r\nReferer: http://r/\r\nUser-Agent: curl/7.88\r\n\r\n");
    handlers::access_entry e{"127.0.0.1", &req.get(), 200, 13, 42};
    BOOST_CHECK_EQUAL(line(handlers::log_format::combined, e),
                      "127.0.0.1 - - [10/Oct/2000:20:55:36 +0000] \"GET /a/b?c=1 HTTP/1.1\" 200 13 \"http://r/\" "
                      "\"curl/7.88\"\n");
}

BOOST_AUTO_TEST_CASE(combined_line_without_headers_or_request) {
    test::parsed_request req("HEAD / HTTP/1.0\r\n\r\n");
    handlers::access_entry e{"::1", &req.get(), 304, 0, 0};
    BOOST_CHECK_EQUAL(line(handlers::log_format::combined, e),
                      "::1 - - [10/Oct/2000:20:55:36 +0000] \"HEAD / HTTP/1.0\" 304 0 \"-\" \"-\"\n");
    handlers::access_entry bad{"10.0.0.1", nullptr, 400, 16, 0};
    BOOST_CHECK_EQUAL(line(handlers::log_format::combined, bad),
                      "10.0.0.1 - - [10/Oct/2000:20:55:36 +0000] \"-\" 400 16 \"-\" \"-\"\n");
}

BOOST_AUTO_TEST_CASE(issue_10_combined_timed_appends_request_time_in_seconds) {
    test::parsed_request req("GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
    handlers::access_entry e{"127.0.0.1", &req.get(), 200, 5, 2'345'678};  // 2.345678 s
    BOOST_CHECK_EQUAL(line(handlers::log_format::combined_timed, e),
                      "127.0.0.1 - - [10/Oct/2000:20:55:36 +0000] \"GET /t HTTP/1.1\" 200 5 \"-\" \"-\" 2.345\n");
    handlers::access_entry fast{"127.0.0.1", &req.get(), 200, 5, 41};
    BOOST_CHECK(line(handlers::log_format::combined_timed, fast).ends_with("\" 0.000\n"));
    handlers::access_entry bad{"10.0.0.1", nullptr, 400, 16, 0};
    BOOST_CHECK(line(handlers::log_format::combined_timed, bad).ends_with("\"-\" \"-\" -\n"));
}

BOOST_AUTO_TEST_CASE(combined_line_escapes_quotes_backslashes_and_bytes_outside_ascii) {
    test::parsed_request req("GET /x HTTP/1.1\r\nHost: x\r\nUser-Agent: a\"b\\c\xc3\xa9\tz\r\n\r\n");
    handlers::access_entry e{"1.2.3.4", &req.get(), 200, 1, 0};
    std::string l = line(handlers::log_format::combined, e);
    BOOST_CHECK_MESSAGE(l.find("\"a\\x22b\\x5cc\\xc3\\xa9\\x09z\"\n") != std::string::npos, l);
    BOOST_CHECK_EQUAL(count_lines(l), 1u);
}

BOOST_AUTO_TEST_CASE(json_line_parses_with_stable_keys_in_order) {
    test::parsed_request req(
        "POST /api?q=%22x%22 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nUser-Agent: t\"\xff\tz\r\n\r\n");
    handlers::access_entry e{"127.0.0.1", &req.get(), 201, 7, 1234};
    std::string l = line(handlers::log_format::json, e, 5);
    BOOST_REQUIRE_EQUAL(l.back(), '\n');
    BOOST_CHECK_EQUAL(count_lines(l), 1u);
    auto j = nlohmann::json::parse(l);
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    // nlohmann sorts keys; the order on the line is checked on the text.
    BOOST_CHECK_EQUAL(l.find("{\"time\":"), 0u);
    const char* in_order[] = {"\"time\"",       "\"remote\"",      "\"method\"", "\"target\"",
                              "\"version\"",    "\"status\"",      "\"bytes\"",  "\"referer\"",
                              "\"user_agent\"", "\"duration_us\"", "\"worker\""};
    std::size_t at = 0;
    for (const char* k : in_order) {
        std::size_t p = l.find(k, at);
        BOOST_CHECK_MESSAGE(p != std::string::npos, k << " missing or out of order in " << l);
        at = p;
    }
    BOOST_CHECK_EQUAL(keys.size(), 11u);
    BOOST_CHECK_EQUAL(j["time"].get<std::string>(), "2000-10-10T20:55:36Z");
    BOOST_CHECK_EQUAL(j["remote"].get<std::string>(), "127.0.0.1");
    BOOST_CHECK_EQUAL(j["method"].get<std::string>(), "POST");
    BOOST_CHECK_EQUAL(j["target"].get<std::string>(), "/api?q=%22x%22");
    BOOST_CHECK_EQUAL(j["version"].get<std::string>(), "HTTP/1.1");
    BOOST_CHECK_EQUAL(j["status"].get<long>(), 201);
    BOOST_CHECK_EQUAL(j["bytes"].get<long>(), 7);
    BOOST_CHECK_EQUAL(j["referer"].get<std::string>(), "");
    // Bytes outside ASCII are written as \u00HH: a line is valid JSON whatever the client sent.
    BOOST_CHECK_EQUAL(j["user_agent"].get<std::string>(), "t\"\u00ff\tz");
    BOOST_CHECK_EQUAL(j["duration_us"].get<long>(), 1234);
    BOOST_CHECK_EQUAL(j["worker"].get<long>(), 5);
}

BOOST_AUTO_TEST_CASE(json_line_without_request_has_empty_strings) {
    handlers::access_entry e{"10.0.0.1", nullptr, 408, 0, 0};
    auto j = nlohmann::json::parse(line(handlers::log_format::json, e));
    BOOST_CHECK_EQUAL(j["method"].get<std::string>(), "");
    BOOST_CHECK_EQUAL(j["target"].get<std::string>(), "");
    BOOST_CHECK_EQUAL(j["version"].get<std::string>(), "");
    BOOST_CHECK_EQUAL(j["status"].get<long>(), 408);
}

BOOST_FIXTURE_TEST_CASE(logger_buffers_until_flush_and_writes_whole_lines, log_file) {
    BOOST_CHECK(!log.is_enabled());
    test::parsed_request req("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    log.record({"127.0.0.1", &req.get(), 200, 13, 1});  // off: nothing happens
    BOOST_REQUIRE(log.try_open(path, handlers::log_format::combined, 0));
    BOOST_CHECK(log.is_enabled());
    for (int i = 0; i < 100; ++i) log.record({"127.0.0.1", &req.get(), 200, 13, 1});
    BOOST_CHECK_EQUAL(read_file(path), "");  // buffered, not written yet
    BOOST_CHECK_GT(log.buffered(), 0u);
    log.tick(handlers::access_logger::flush_interval_ms);  // the sweep's tick, half a second in
    BOOST_CHECK_EQUAL(log.buffered(), 0u);
    BOOST_CHECK_EQUAL(count_lines(read_file(path)), 100u);
    log.record({"127.0.0.1", &req.get(), 200, 13, 1});
    log.tick(handlers::access_logger::flush_interval_ms + 1);  // too soon after the last flush
    BOOST_CHECK_EQUAL(log.buffered() > 0, true);
    log.close();  // flushes
    BOOST_CHECK_EQUAL(count_lines(read_file(path)), 101u);
    BOOST_CHECK(!log.is_enabled());
}

BOOST_FIXTURE_TEST_CASE(logger_flushes_past_the_threshold, log_file) {
    BOOST_REQUIRE(log.try_open(path, handlers::log_format::json, 1));
    test::parsed_request req("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    std::size_t n = 0;
    while (read_file(path).empty()) {
        log.record({"127.0.0.1", &req.get(), 200, 13, 1});
        ++n;
        BOOST_REQUIRE(n < 10000);
    }
    BOOST_CHECK_EQUAL(log.buffered(), 0u);
    const std::string text = read_file(path);
    BOOST_CHECK_EQUAL(count_lines(text), n);
    BOOST_CHECK_GE(text.size(), handlers::access_logger::flush_threshold);
    BOOST_CHECK_EQUAL(text.back(), '\n');
}

BOOST_FIXTURE_TEST_CASE(reopen_after_rename_splits_lines_without_losing_any, log_file) {
    BOOST_REQUIRE(log.try_open(path, handlers::log_format::combined, 0));
    test::parsed_request req("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 10; ++i) log.record({"127.0.0.1", &req.get(), 200, 0, 0});
    BOOST_REQUIRE_EQUAL(std::rename(path.c_str(), (path + ".1").c_str()), 0);      // logrotate
    for (int i = 0; i < 5; ++i) log.record({"127.0.0.1", &req.get(), 200, 0, 0});  // before the signal
    log.reopen();
    for (int i = 0; i < 7; ++i) log.record({"127.0.0.1", &req.get(), 200, 0, 0});
    log.close();
    BOOST_CHECK_EQUAL(count_lines(read_file(path + ".1")), 15u);
    BOOST_CHECK_EQUAL(count_lines(read_file(path)), 7u);
}

BOOST_AUTO_TEST_CASE(open_failure_reports_and_stays_off) {
    handlers::access_logger log;
    BOOST_CHECK(!log.try_open("/nonexistent-dir-ff/access.log", handlers::log_format::combined, 0));
    BOOST_CHECK(!log.is_enabled());
}

BOOST_AUTO_TEST_SUITE_END()
