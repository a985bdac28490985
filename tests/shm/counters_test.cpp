#include "shm/counters.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "http/error.hpp"
#include "shm/render.hpp"

using namespace fastfork;

BOOST_AUTO_TEST_SUITE(shm_counters)

BOOST_AUTO_TEST_CASE(parse_error_names_match_http_name_of) {
    BOOST_TEST(shm::parse_error_name(0).empty());  // error::none is never counted
    const auto last = static_cast<std::size_t>(http::error::body_too_large);
    for (std::size_t i = 1; i <= last; ++i)
        BOOST_TEST(shm::parse_error_name(i) == http::name_of(static_cast<http::error>(i)), "kind " << i);
    // A kind added to http::error after body_too_large needs a name here (and in the table).
    BOOST_TEST(http::name_of(static_cast<http::error>(last + 1)) == "unknown");
    BOOST_TEST(shm::parse_error_name(last + 1).empty());
    BOOST_TEST(last < shm::parse_error_kinds);
}

BOOST_AUTO_TEST_CASE(tracked_statuses_include_every_status_of_http_errors) {
    for (std::size_t i = 1; i <= static_cast<std::size_t>(http::error::body_too_large); ++i) {
        unsigned status = http::status_of(static_cast<http::error>(i));
        BOOST_TEST(shm::tracked_status_index(status) >= 0, "status " << status);
    }
    for (unsigned s : {408u, 429u, 500u, 503u}) BOOST_TEST(shm::tracked_status_index(s) >= 0);
    BOOST_TEST(shm::tracked_status_index(200) == -1);
    BOOST_TEST(shm::tracked_status_index(404) == -1);
}

BOOST_AUTO_TEST_CASE(count_status_counts_class_and_tracked_status) {
    shm::worker_counters c{};
    shm::count_status(c, 200);
    shm::count_status(c, 431);
    shm::count_status(c, 404);
    shm::count_status(c, 99);  // no class: not counted anywhere
    BOOST_TEST(shm::get(c.responses_by_class[1]) == 1u);
    BOOST_TEST(shm::get(c.responses_by_class[3]) == 2u);
    BOOST_TEST(shm::get(c.responses_by_status[shm::tracked_status_index(431)]) == 1u);
    std::uint64_t tracked = 0;
    for (const auto& x : c.responses_by_status) tracked += shm::get(x);
    BOOST_TEST(tracked == 1u);
}

BOOST_AUTO_TEST_CASE(count_parse_error_counts_total_and_kind) {
    shm::worker_counters c{};
    shm::count_parse_error(c, static_cast<unsigned>(http::error::obs_fold));
    shm::count_parse_error(c, static_cast<unsigned>(http::error::obs_fold));
    shm::count_parse_error(c, 1000);  // out of range: only the total
    BOOST_TEST(shm::get(c.parse_errors) == 3u);
    BOOST_TEST(shm::get(c.parse_errors_by_kind[static_cast<int>(http::error::obs_fold)]) == 2u);
}

BOOST_AUTO_TEST_CASE(counter_fields_have_unique_names_and_labels) {
    std::set<std::string> names;
    std::size_t cells = 0;
    for (const auto& f : shm::counter_fields()) {
        BOOST_TEST(names.insert(std::string(f.name)).second, "duplicate " << f.name);
        BOOST_TEST(!f.help.empty());
        BOOST_TEST((f.length == 1) == f.label.empty(), f.name);
        cells += f.length;
    }
    BOOST_TEST(cells == shm::counter_cells);
    BOOST_TEST(names.count("requests") == 1u);
    BOOST_TEST(names.count("connections_accepted") == 1u);
    BOOST_TEST(names.count("bytes_in") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
