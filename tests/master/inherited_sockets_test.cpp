#include "master/inherited_sockets.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

using namespace fastfork::master;

namespace {

// A loopback socket on an ephemeral port; listening unless told otherwise. Returns the fd and its port.
int loopback_socket(unsigned& port, bool listening = true) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (listening) BOOST_REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    return fd;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(master_inherited_sockets)

BOOST_AUTO_TEST_CASE(handed_over_sockets_are_matched_by_address_and_shared_without_reuseport) {
    unsigned port = 0;
    const int fd = loopback_socket(port);
    const std::string address = "127.0.0.1:" + std::to_string(port);
    ::setenv(listen_fds_env, (std::to_string(fd) + ":" + address).c_str(), 1);
    listen_sockets sockets;
    std::string error;
    // Spelled differently in the config: the bound address decides.
    const std::vector<std::string> listen{"localhost:" + std::to_string(port)};
    BOOST_REQUIRE_MESSAGE(adopt_inherited_sockets(listen, sockets, error), error);
    BOOST_CHECK(std::getenv(listen_fds_env) == nullptr);
    BOOST_CHECK((sockets.fds_for(listen, 0) == std::vector<int>{fd}));
    // No SO_REUSEPORT: open() adds no sibling, every index serves this socket.
    BOOST_REQUIRE_MESSAGE(sockets.open(listen, 3, 16, error), error);
    BOOST_CHECK((sockets.fds_for(listen, 2) == std::vector<int>{fd}));
    BOOST_CHECK_EQUAL(sockets.all_fds().size(), 1u);
    BOOST_CHECK(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    BOOST_CHECK_EQUAL(format_listen_fds(sockets), std::to_string(fd) + ":" + listen[0]);
}

BOOST_AUTO_TEST_CASE(a_socket_bound_elsewhere_is_closed) {
    unsigned port = 0;
    const int fd = loopback_socket(port);
    ::setenv(listen_fds_env, (std::to_string(fd) + ":127.0.0.1:" + std::to_string(port)).c_str(), 1);
    listen_sockets sockets;
    std::string error;
    const std::vector<std::string> listen{"127.0.0.1:" + std::to_string(port == 65535 ? 1 : port + 1)};
    BOOST_REQUIRE_MESSAGE(adopt_inherited_sockets(listen, sockets, error), error);
    BOOST_CHECK(sockets.all_fds().empty());
    BOOST_CHECK_EQUAL(::fcntl(fd, F_GETFD), -1);  // closed: it would hold its port for nobody
}

BOOST_AUTO_TEST_CASE(a_descriptor_that_does_not_listen_is_an_error) {
    unsigned port = 0;
    const int fd = loopback_socket(port, false);
    ::setenv(listen_fds_env, (std::to_string(fd) + ":127.0.0.1:" + std::to_string(port)).c_str(), 1);
    listen_sockets sockets;
    std::string error;
    BOOST_CHECK(!adopt_inherited_sockets({"127.0.0.1:" + std::to_string(port)}, sockets, error));
    BOOST_CHECK_NE(error.find("is not a listening TCP socket"), std::string::npos);
    ::setenv(listen_fds_env, "x:1.2.3.4:5", 1);
    BOOST_CHECK(!adopt_inherited_sockets({"127.0.0.1:1"}, sockets, error));
    BOOST_CHECK_NE(error.find("is not FD:ADDRESS"), std::string::npos);
    ::unsetenv(listen_fds_env);
    ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
