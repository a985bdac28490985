// The fiber stack pool: usable bytes, the guard page below them (in a forked child, which must
// die of SIGSEGV), and reuse from the cache.
#include "worker/stack_pool.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>

#include "child_process.hpp"
#include "worker/fiber_pool.hpp"

using namespace ff_test;
using fastfork::worker::stack_pool;

namespace {
std::size_t page() {
    return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// The lowest byte of the mapping: the guard page.
volatile char* guard_of(const boost::context::stack_context& s) {
    return static_cast<volatile char*>(static_cast<char*>(s.sp) - s.size);
}

// In the child: the default action for SIGSEGV (sanitizers install their own handler), then a
// write to the guard page. Returning means it did not fault.
int write_to_guard(volatile char* guard) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGSEGV, &dfl, nullptr);
    ::sigaction(SIGBUS, &dfl, nullptr);
    guard[page() - 1] = 1;  // the guard's highest byte: just below the usable area
    return 0;
}

// About 1 KiB of stack per level: less than the guard page, so an overflow cannot jump over it.
int recurse(int depth) {
    volatile char frame[1024];
    frame[0] = static_cast<char>(depth);
    return depth <= 0 ? frame[0] : recurse(depth - 1) + frame[0];
}

// In the child: a fiber whose task needs 1 MiB of its 64 KiB stack.
int overflow_a_fiber() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGSEGV, &dfl, nullptr);
    uv_loop_t loop;
    uv_loop_init(&loop);
    fastfork::shm::worker_counters counters{};
    fastfork::worker::options opts;
    opts.stack_size = 64 * 1024;
    fastfork::worker::fiber_pool pool(&loop, opts, counters);
    static int result = -1;
    pool.start(
        pool.try_acquire(), [](void*) { result = recurse(1024); }, nullptr);
    return result == -1 ? 3 : 4;  // either way, it did not fault
}

bool died_of_sigsegv(int status) {
    return status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(worker_stack_pool)

BOOST_AUTO_TEST_CASE(whole_usable_area_is_writable) {
    stack_pool pool(64 * 1024);
    auto s = pool.allocate();
    BOOST_TEST(s.size == pool.mapping_size());
    BOOST_TEST(s.size >= 64 * 1024 + page());
    char* top = static_cast<char*>(s.sp);
    char* bottom = top - s.size + page();
    bottom[0] = 1;  // lowest usable byte
    top[-1] = 1;    // highest
    BOOST_TEST(bottom[0] == 1);
    pool.deallocate(s);
}

BOOST_AUTO_TEST_CASE(writing_below_the_usable_area_faults) {
    stack_pool pool(64 * 1024);
    auto s = pool.allocate();
    const int status = run_in_child([&] { return write_to_guard(guard_of(s)); });
    BOOST_TEST(died_of_sigsegv(status), "child wait status " << status);
    pool.deallocate(s);
}

BOOST_AUTO_TEST_CASE(cached_stack_keeps_its_guard_page) {
    stack_pool pool(64 * 1024);
    auto first = pool.allocate();
    void* sp = first.sp;
    pool.deallocate(first);
    BOOST_TEST(pool.cached() == 1u);
    auto again = pool.allocate();
    BOOST_TEST(again.sp == sp);  // reused, not mapped anew
    BOOST_TEST(pool.cached() == 0u);
    const int status = run_in_child([&] { return write_to_guard(guard_of(again)); });
    BOOST_TEST(died_of_sigsegv(status), "child wait status " << status);
    pool.deallocate(again);
}

BOOST_AUTO_TEST_CASE(fiber_that_overflows_its_stack_faults) {
    const int status = run_in_child(overflow_a_fiber);
    BOOST_TEST(died_of_sigsegv(status), "child wait status " << status);
}

BOOST_AUTO_TEST_SUITE_END()
