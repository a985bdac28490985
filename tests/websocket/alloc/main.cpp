#define BOOST_TEST_MODULE fastfork_websocket_alloc
#include <boost/test/unit_test.hpp>
