#pragma once
// Runs a piece of a test in a forked child (worker_tests), for what the test process must not
// suffer itself: a fault on purpose, a lowered descriptor limit. Waits with a scaled deadline.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

#include "loopback.hpp"

namespace ff_test {

/// Forks; the child runs `body` and _exits with its return value (no Boost.Test in there: report
/// through the exit code or a pipe). Returns the child's wait status, or -1 when it had to be
/// killed at the deadline.
inline int run_in_child(const std::function<int()>& body, milliseconds deadline = 10'000ms) {
    const pid_t pid = ::fork();
    if (pid < 0) return -2;
    if (pid == 0) {
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // a fault on purpose must not write a core file
        ::_exit(body());
    }
    const auto end = clock::now() + scaled(deadline);
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -2;
        if (clock::now() >= end) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(2ms);
    }
}

}  // namespace ff_test
