#include "http/mime.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace fastfork::http;

BOOST_AUTO_TEST_SUITE(http_mime)

BOOST_AUTO_TEST_CASE(maps_the_common_web_types) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json; charset=utf-8"},
        {"map", "application/json; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"xml", "application/xml; charset=utf-8"},
        {"svg", "image/svg+xml; charset=utf-8"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"ico", "image/x-icon"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        {"wasm", "application/wasm"},
        {"pdf", "application/pdf"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"wav", "audio/wav"},
        {"csv", "text/csv; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
    };
    for (const auto& [ext, type] : cases) {
        BOOST_TEST_CONTEXT(ext) {
            BOOST_TEST(mime_type_for_extension(ext) == type);
        }
    }
}

BOOST_AUTO_TEST_CASE(extension_match_is_case_insensitive) {
    BOOST_TEST(mime_type_for_extension("HTML") == "text/html; charset=utf-8");
    BOOST_TEST(mime_type_for_extension("Jpg") == "image/jpeg");
    BOOST_TEST(mime_type_for_path("/A/PHOTO.PNG") == "image/png");
}

BOOST_AUTO_TEST_CASE(unknown_extensions_are_octet_stream) {
    BOOST_TEST(mime_type_for_extension("") == default_mime_type);
    BOOST_TEST(mime_type_for_extension("exe") == "application/octet-stream");
    BOOST_TEST(mime_type_for_extension("averyveryverylongextension") == default_mime_type);
    BOOST_TEST(mime_type_for_extension(std::string_view("h\0ml", 4)) == default_mime_type);
}

BOOST_AUTO_TEST_CASE(path_uses_the_last_extension_of_the_last_segment) {
    BOOST_TEST(mime_type_for_path("index.html") == "text/html; charset=utf-8");
    BOOST_TEST(mime_type_for_path("dir/archive.tar.gz") == "application/gzip");
    BOOST_TEST(mime_type_for_path("dir.css/README") == default_mime_type);
    BOOST_TEST(mime_type_for_path(".bashrc") == default_mime_type);
    BOOST_TEST(mime_type_for_path("dir/.hidden") == default_mime_type);
    BOOST_TEST(mime_type_for_path("trailing.") == default_mime_type);
    BOOST_TEST(mime_type_for_path("") == default_mime_type);
    BOOST_TEST(mime_type_for_path("a b/ü.txt") == "text/plain; charset=utf-8");
}

BOOST_AUTO_TEST_SUITE_END()
