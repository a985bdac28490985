#define BOOST_TEST_MODULE fastfork_worker
#include <boost/test/unit_test.hpp>
