#define BOOST_TEST_MODULE fastfork_master
#include <boost/test/unit_test.hpp>
