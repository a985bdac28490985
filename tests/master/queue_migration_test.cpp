#include "master/queue_migration.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace fastfork::master;

namespace {
std::string with_value(const char* text) {
    char path[] = "/tmp/ff-migrate-XXXXXX";
    int fd = ::mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << text;
    std::string out = queue_migration_warning(path);
    ::unlink(path);
    return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(master_queue_migration)

BOOST_AUTO_TEST_CASE(off_says_what_to_enable) {
    const std::string w = with_value("0\n");
    BOOST_CHECK_NE(w.find("net.ipv4.tcp_migrate_req is 0"), std::string::npos);
    BOOST_CHECK_NE(w.find("sysctl -w net.ipv4.tcp_migrate_req=1"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(on_is_silent) {
    BOOST_CHECK(with_value("1\n").empty());
}

BOOST_AUTO_TEST_CASE(a_kernel_without_it_is_named) {
    const std::string w = queue_migration_warning("/nonexistent/tcp_migrate_req");
    BOOST_CHECK_NE(w.find("cannot read /nonexistent/tcp_migrate_req"), std::string::npos);
    BOOST_CHECK_NE(w.find("reset"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
