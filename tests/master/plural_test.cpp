#include "master/plural.hpp"

#include <boost/test/unit_test.hpp>

using namespace fastfork::master;

BOOST_AUTO_TEST_SUITE(master_plural)

BOOST_AUTO_TEST_CASE(one_is_singular_everything_else_plural) {
    BOOST_CHECK_EQUAL(count_of(1, "worker"), "1 worker");
    BOOST_CHECK_EQUAL(count_of(0, "worker"), "0 workers");
    BOOST_CHECK_EQUAL(count_of(2, "worker"), "2 workers");
}

BOOST_AUTO_TEST_SUITE_END()
