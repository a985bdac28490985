#include "http/body_reader.hpp"
#include "http/parser.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

// Replays the fuzz corpus (tests/fuzz/corpus) through the parser and the chunked decoder, so every
// seed and every finding committed there is checked by g++ builds too (h2o t/99fuzzer-http1.t).
// Seed names carry their expectation: "valid-*" must parse (or decode) completely, and
// "reject-<error>-*" must fail with exactly that error (its name_of() spelling). Any other file,
// such as a minimized crash reproducer, only has to be handled without a crash.

using namespace fastfork::http;
namespace fs = std::filesystem;

namespace {

fs::path corpus_root() {
    std::vector<fs::path> candidates;
    if (const char* src = std::getenv("FF_SOURCE_DIR"); src && *src)
        candidates.emplace_back(fs::path(src) / "tests/fuzz/corpus");
#ifdef FF_FUZZ_CORPUS_DIR
    candidates.emplace_back(FF_FUZZ_CORPUS_DIR);
#endif
    candidates.emplace_back("tests/fuzz/corpus");
    candidates.emplace_back("../tests/fuzz/corpus");
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::is_directory(c / "parser", ec)) return c;
    }
    return {};
}

struct seed {
    std::string name;
    std::string bytes;
};

std::vector<seed> load(const char* kind) {
    std::vector<seed> seeds;
    fs::path root = corpus_root();
    BOOST_TEST_REQUIRE(!root.empty(), "fuzz corpus not found: set FF_SOURCE_DIR to the source tree");
    for (const auto& entry : fs::directory_iterator(root / kind)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        seeds.push_back({entry.path().filename().string(),
                         std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())});
    }
    std::sort(seeds.begin(), seeds.end(), [](const seed& a, const seed& b) { return a.name < b.name; });
    return seeds;
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// "reject-bad_chunk_size-non-hex" → "bad_chunk_size" (error names have no '-').
std::string expected_error(const std::string& name) {
    std::string rest = name.substr(std::string_view("reject-").size());
    return rest.substr(0, rest.find('-'));
}

parser::result parse(std::string& bytes, std::size_t split) {
    parser p;
    auto r = p.feed(bytes.data(), split);
    if (r.state == parser::state::need_more) r = p.feed(bytes.data(), bytes.size());
    return r;
}

struct decoded {
    body_reader::result last;
    std::string body;
};

decoded decode_chunked(const std::string& bytes, std::size_t split) {
    request req;
    req.framing = body_framing::chunked;
    body_reader reader;
    reader.start(req, limits{}.max_body);
    std::string buf = bytes;
    decoded d;
    auto r = reader.feed(buf.data(), split, buf.data());
    std::size_t pos = r.consumed;
    std::size_t produced = r.produced;
    if (r.state == body_reader::state::need_more) {
        r = reader.feed(buf.data() + pos, buf.size() - pos, buf.data() + produced);
        pos += r.consumed;
        produced += r.produced;
    }
    r.consumed = pos;
    r.produced = produced;
    d.last = r;
    d.body = buf.substr(0, produced);
    return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_corpus)

BOOST_AUTO_TEST_CASE(parser_corpus_seeds_meet_their_expectations) {
    auto seeds = load("parser");
    BOOST_TEST(seeds.size() >= 30u);
    for (auto& s : seeds) {
        BOOST_TEST_CONTEXT(s.name) {
            std::string bytes = s.bytes;
            auto whole = parse(bytes, bytes.size());
            BOOST_TEST(whole.consumed <= bytes.size());
            if (starts_with(s.name, "valid-")) {
                BOOST_TEST((whole.state == parser::state::done));
                BOOST_TEST(name_of(whole.err) == "none");
            } else if (starts_with(s.name, "reject-")) {
                BOOST_TEST((whole.state == parser::state::error));
                BOOST_TEST(name_of(whole.err) == expected_error(s.name));
            }
            // The same verdict for every split of the seed.
            for (std::size_t i = 0; i <= s.bytes.size(); i += 1 + s.bytes.size() / 64) {
                std::string copy = s.bytes;
                auto split = parse(copy, i);
                BOOST_TEST_CONTEXT("split at " << i) {
                    BOOST_TEST((split.state == whole.state));
                    BOOST_TEST(name_of(split.err) == name_of(whole.err));
                    BOOST_TEST(split.consumed == whole.consumed);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(chunked_corpus_seeds_meet_their_expectations) {
    auto seeds = load("chunked");
    BOOST_TEST(seeds.size() >= 10u);
    for (auto& s : seeds) {
        BOOST_TEST_CONTEXT(s.name) {
            auto whole = decode_chunked(s.bytes, s.bytes.size());
            BOOST_TEST(whole.last.consumed <= s.bytes.size());
            if (starts_with(s.name, "valid-")) {
                BOOST_TEST((whole.last.state == body_reader::state::done));
            } else if (starts_with(s.name, "reject-")) {
                BOOST_TEST((whole.last.state == body_reader::state::error));
                BOOST_TEST(name_of(whole.last.err) == expected_error(s.name));
            }
            for (std::size_t i = 0; i <= s.bytes.size(); ++i) {
                auto split = decode_chunked(s.bytes, i);
                BOOST_TEST_CONTEXT("split at " << i) {
                    BOOST_TEST((split.last.state == whole.last.state));
                    BOOST_TEST(name_of(split.last.err) == name_of(whole.last.err));
                    BOOST_TEST(split.last.consumed == whole.last.consumed);
                    BOOST_TEST(split.body == whole.body);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(parsed_corpus_heads_feed_the_body_reader) {
    // A valid head followed by its body: the framing the parser found must decode the rest.
    for (auto& s : load("parser")) {
        if (!starts_with(s.name, "valid-")) continue;
        BOOST_TEST_CONTEXT(s.name) {
            std::string bytes = s.bytes;
            parser p;
            auto r = p.feed(bytes.data(), bytes.size());
            BOOST_REQUIRE((r.state == parser::state::done));
            body_reader reader;
            reader.start(p.get(), limits{}.max_body);
            char* body = bytes.data() + r.consumed;
            auto b = reader.feed(body, bytes.size() - r.consumed, body);
            BOOST_TEST((b.state != body_reader::state::error));
            BOOST_TEST(b.consumed <= bytes.size() - r.consumed);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
