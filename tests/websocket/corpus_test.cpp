// Replays the committed websocket_fuzz corpus (tests/fuzz/corpus/websocket) through the reader
// under the regular compiler too, with the fuzzer's own checks: every input gives the same
// events whole, split where the fuzzer's second byte says, and at every byte.
#include "websocket/message_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "frames.hpp"
#include "websocket/deflate_stream.hpp"

using namespace fastfork::websocket;
using namespace fastfork::websocket::test;
namespace fs = std::filesystem;

namespace {

fs::path corpus_dir() {
    const char* src = std::getenv("FF_SOURCE_DIR");
    return fs::path(src && *src ? src : FF_SOURCE_DIR_FALLBACK) / "tests/fuzz/corpus/websocket";
}

std::vector<seen> run(
    std::string_view input, std::vector<std::size_t> cuts, const reader_options& o, bool deflate, bool no_takeover) {
    deflate_params p;
    p.client_no_context_takeover = no_takeover;
    inflater inf(p);
    message_reader r(o);
    if (deflate) r.set_inflater(&inf);
    fastfork::http::byte_buffer msg;
    return feed(r, input, cuts, msg);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(websocket_corpus)

BOOST_AUTO_TEST_CASE(every_seed_gives_the_same_events_however_split) {
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(corpus_dir())) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (data.size() < 2) continue;
        ++files;
        auto flags = static_cast<unsigned char>(data[0]);
        reader_options o;
        o.require_mask = !(flags & 4);
        o.max_message = (flags >> 3) == 31 ? (16u << 20) : std::uint64_t(flags >> 3) * 97;
        std::string_view input = std::string_view(data).substr(2);
        auto whole = run(input, {}, o, flags & 1, flags & 2);
        std::size_t step = input.size() > 2000 ? 997 : 1;  // keep the big seeds cheap
        for (std::size_t k = 0; k <= input.size(); k += step)
            BOOST_TEST(run(input, {k}, o, flags & 1, flags & 2) == whole, entry.path().filename() << " split at " << k);
    }
    BOOST_TEST(files >= 10u);
}

BOOST_AUTO_TEST_SUITE_END()
