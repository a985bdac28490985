#define BOOST_TEST_MODULE fastfork_http
#include <boost/test/unit_test.hpp>
