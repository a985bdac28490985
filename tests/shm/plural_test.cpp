#include "shm/plural.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <string>

using namespace fastfork::shm;

BOOST_AUTO_TEST_SUITE(shm_plural)

std::string counted(std::uint64_t n, const char* noun) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llu %s%s", static_cast<unsigned long long>(n), noun, plural_s(n));
    return buf;
}

BOOST_AUTO_TEST_CASE(one_is_singular_everything_else_plural) {
    BOOST_CHECK_EQUAL(counted(1, "worker"), "1 worker");
    BOOST_CHECK_EQUAL(counted(0, "worker"), "0 workers");
    BOOST_CHECK_EQUAL(counted(2, "open connection"), "2 open connections");
    BOOST_CHECK_EQUAL(counted(11, "request"), "11 requests");
    BOOST_CHECK_EQUAL(counted(21, "request"), "21 requests");
}

BOOST_AUTO_TEST_CASE(usable_at_compile_time) {
    static_assert(plural_s(1)[0] == '\0');
    static_assert(plural_s(0)[0] == 's');
}

BOOST_AUTO_TEST_SUITE_END()
