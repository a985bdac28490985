#define BOOST_TEST_MODULE fastfork_handlers
#include <boost/test/unit_test.hpp>
