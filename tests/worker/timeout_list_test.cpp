#include "worker/timeout_list.hpp"

#include <boost/test/unit_test.hpp>

using fastfork::worker::timeout_hook;
using fastfork::worker::timeout_list;

BOOST_AUTO_TEST_SUITE(worker_timeout_list)

BOOST_AUTO_TEST_CASE(reports_members_in_deadline_order) {
    timeout_list l(100);
    timeout_hook a, b, c;
    l.push_back(a, 0);
    l.push_back(b, 10);
    l.push_back(c, 20);
    BOOST_CHECK(l.expired(99) == nullptr);
    BOOST_CHECK(l.expired(100) == &a);
    timeout_list::unlink(a);
    BOOST_CHECK(l.expired(105) == nullptr);
    BOOST_CHECK(l.expired(110) == &b);
    BOOST_CHECK_EQUAL(l.size(), 2u);
}

BOOST_AUTO_TEST_CASE(moving_a_member_restamps_it_and_leaves_the_old_list) {
    timeout_list idle(1000), header(10);
    timeout_hook h;
    idle.push_back(h, 0);
    header.push_back(h, 50);
    BOOST_CHECK(idle.empty());
    BOOST_CHECK(h.list == &header);
    BOOST_CHECK(header.expired(59) == nullptr);
    BOOST_CHECK(header.expired(60) == &h);
    timeout_list::unlink(h);
    timeout_list::unlink(h);  // idempotent
    BOOST_CHECK(header.empty());
    BOOST_CHECK(!h.is_linked());
}

BOOST_AUTO_TEST_CASE(older_than_applies_a_shorter_grace) {
    timeout_list idle(75'000);
    timeout_hook h;
    idle.push_back(h, 1000);
    BOOST_CHECK(idle.expired(3000) == nullptr);
    BOOST_CHECK(idle.older_than(3000, 1000) == &h);
}

BOOST_AUTO_TEST_SUITE_END()
