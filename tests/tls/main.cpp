#define BOOST_TEST_MODULE fastfork_tls
#include <boost/test/unit_test.hpp>
