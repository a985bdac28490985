#include "shm/segment.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

using namespace fastfork::shm;

namespace {

std::string unique_name(const char* what) {
    return std::string("shmtest-") + what + "-" + std::to_string(::getpid());
}

// Unlinks the name even when a check fails half-way.
struct unlink_guard {
    std::string name;
    ~unlink_guard() { ::shm_unlink(segment::object_name(name).c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_segment)

BOOST_AUTO_TEST_CASE(open_readonly_sees_what_the_master_writes) {
    unlink_guard g{unique_name("ro")};
    segment master = segment::create(g.name, ::getpid());
    master.get()->slots[3].pid.store(1234);
    add(master.get()->slots[3].counters.requests, 7);
    segment reader = segment::open_readonly(g.name);
    BOOST_TEST(reader.get()->header.version == layout_version);
    BOOST_TEST(reader.get()->header.master_pid.load() == ::getpid());
    BOOST_TEST(get(reader.get()->slots[3].counters.requests) == 7u);
}

BOOST_AUTO_TEST_CASE(writing_through_a_read_only_mapping_faults) {
    unlink_guard g{unique_name("fault")};
    segment master = segment::create(g.name, ::getpid());
    segment reader = segment::open_readonly(g.name);
    pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ::signal(SIGSEGV, SIG_DFL);  // Boost.Test's handler would turn the fault into a report
        auto* layout = const_cast<segment_layout*>(static_cast<const segment&>(reader).get());
        layout->slots[0].counters.requests.store(1);  // PROT_READ: must fault
        ::_exit(0);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFSIGNALED(status));
    BOOST_TEST((WIFSIGNALED(status) ? WTERMSIG(status) : 0) == SIGSEGV);
    BOOST_TEST(get(master.get()->slots[0].counters.requests) == 0u);
}

BOOST_AUTO_TEST_CASE(open_readonly_rejects_another_layout_version) {
    unlink_guard g{unique_name("version")};
    segment master = segment::create(g.name, ::getpid());
    master.get()->header.version = layout_version + 1;
    try {
        (void)segment::open_readonly(g.name);
        BOOST_FAIL("open_readonly accepted layout version " << layout_version + 1);
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        BOOST_TEST(msg.find("layout version " + std::to_string(layout_version + 1)) != std::string::npos, msg);
        BOOST_TEST(msg.find("reads version " + std::to_string(layout_version)) != std::string::npos, msg);
    }
}

BOOST_AUTO_TEST_CASE(open_readonly_of_a_missing_instance_says_so) {
    try {
        (void)segment::open_readonly(unique_name("missing"));
        BOOST_FAIL("opened a segment that does not exist");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()).find("no fastfork instance named") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(current_segment_is_set_and_cleared) {
    BOOST_TEST(current_segment() == nullptr);
    unlink_guard g{unique_name("current")};
    segment master = segment::create(g.name, ::getpid());
    set_current_segment(master.get(), g.name);
    BOOST_TEST(current_segment() == master.get());
    BOOST_TEST(current_segment_name() == g.name);
    set_current_segment(nullptr, {});
    BOOST_TEST(current_segment() == nullptr);
    BOOST_TEST(current_segment_name().empty());
}

BOOST_AUTO_TEST_SUITE_END()
