#pragma once
// What a fiber is serving right now (worker), kept where a signal handler can read it without a
// lock: the hang report (worker/backtrace.hpp) names the request a stuck handler runs.

#include <cstddef>
#include <cstdint>

namespace fastfork::worker {

/// Views into the connection's read buffer, which cannot move while the handler runs
/// (input_pin::in_handler); valid from just before the handler is called until it returns.
struct request_note {
    const char* method = nullptr;
    std::size_t method_len = 0;
    const char* target = nullptr;
    std::size_t target_len = 0;
    std::uint64_t connection_opened_ms = 0;  // the loop's clock (uv_now, CLOCK_MONOTONIC) at accept
    std::uint64_t handler_started_ms = 0;    // the loop's clock when the handler was called
};

}  // namespace fastfork::worker
