#define BOOST_TEST_MODULE fastfork_websocket
#include <boost/test/unit_test.hpp>
