#include "master/upgrade.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace fastfork::master;

BOOST_AUTO_TEST_SUITE(master_upgrade)

BOOST_AUTO_TEST_CASE(slots_travel_as_ranges_and_back) {
    const std::vector<unsigned> slots{9, 3, 4, 5, 7, 255};
    const std::string text = format_slots(slots);
    BOOST_CHECK_EQUAL(text, "3-5,7,9,255");
    std::vector<unsigned> back;
    BOOST_REQUIRE(parse_slots(text, back));
    BOOST_CHECK((back == std::vector<unsigned>{3, 4, 5, 7, 9, 255}));
    BOOST_REQUIRE(parse_slots("", back));
    BOOST_CHECK(back.empty());
}

BOOST_AUTO_TEST_CASE(malformed_slot_lists_are_refused) {
    std::vector<unsigned> out;
    for (const char* bad : {"a", "3-", "5-3", "1,,x", "-1", "1-999999"})
        BOOST_CHECK_MESSAGE(!parse_slots(bad, out), bad);
}

BOOST_AUTO_TEST_CASE(handover_is_read_once_and_unset) {
    ::setenv(upgrade_env, "4242:9:api:0-2,5", 1);
    std::string error;
    auto h = take_handover(error);
    BOOST_REQUIRE(h);
    BOOST_CHECK(error.empty());
    BOOST_CHECK_EQUAL(h->old_master, 4242);
    BOOST_CHECK_EQUAL(h->name, "api");
    BOOST_CHECK((h->slots == std::vector<unsigned>{0, 1, 2, 5}));
    BOOST_CHECK(std::getenv(upgrade_env) == nullptr);  // not for the workers, nor the next upgrade
    BOOST_CHECK(!take_handover(error));
    close_report_channel();
}

BOOST_AUTO_TEST_CASE(malformed_handover_names_the_variable) {
    ::setenv(upgrade_env, "4242:api", 1);
    std::string error;
    BOOST_CHECK(!take_handover(error));
    BOOST_CHECK_NE(error.find("FASTFORK_UPGRADE=\"4242:api\""), std::string::npos);
    BOOST_CHECK(std::getenv(upgrade_env) == nullptr);
}

BOOST_AUTO_TEST_CASE(oldbin_is_beside_the_pid_file) {
    BOOST_CHECK_EQUAL(oldbin_path("/run/fastfork/fastfork.pid"), "/run/fastfork/fastfork.pid.oldbin");
}

BOOST_AUTO_TEST_SUITE_END()
