#include "handlers/dashboard.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using namespace fastfork;

BOOST_AUTO_TEST_SUITE(handlers_dashboard)

BOOST_AUTO_TEST_CASE(embedded_page_is_the_repository_file_polling_stats) {
    const std::string_view src = handlers::dashboard_source;
    BOOST_TEST(src.substr(0, 15) == "<!doctype html>");
    BOOST_TEST(src.find("data-stats-path=\"/stats\"") != std::string_view::npos);
    BOOST_TEST(src.find("</html>") != std::string_view::npos);
    BOOST_TEST(src.find('\0') == std::string_view::npos);
    // The default configuration serves the file unchanged.
    BOOST_TEST(handlers::make_dashboard_page("/stats").body == std::string(src));
}

BOOST_AUTO_TEST_CASE(fills_in_the_stats_path_escaped_and_tags_each_variant) {
    const auto a = handlers::make_dashboard_page("/stats");
    const auto b = handlers::make_dashboard_page("/x\"><script>&");
    BOOST_TEST(b.body.find("data-stats-path=\"/x&quot;&gt;&lt;script&gt;&amp;\"") != std::string::npos);
    BOOST_TEST(b.body.find("<script>&") == std::string::npos);
    const auto off = handlers::make_dashboard_page("");
    BOOST_TEST(off.body.find("data-stats-path=\"\"") != std::string::npos);
    // Strong tags ("…", no W/), the same for the same bytes, different for different ones.
    BOOST_TEST(a.etag.front() == '"');
    BOOST_TEST(a.etag.back() == '"');
    BOOST_TEST(a.etag == handlers::make_dashboard_page("/stats").etag);
    BOOST_TEST(a.etag != b.etag);
    BOOST_TEST(a.etag != off.etag);
}

BOOST_AUTO_TEST_SUITE_END()
