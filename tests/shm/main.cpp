#define BOOST_TEST_MODULE fastfork_shm
#include <boost/test/unit_test.hpp>
