#pragma once
// The seams through which features plug into the runtime (worker): a response filter chain run
// after the handler, and observers of every answered request and of the worker's lifecycle.
// handlers/ implements them (gzip is a filter, the access log an observer); worker/ never
// names a feature.

#include <cstdint>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"

namespace fastfork::worker {

/// One answered request, as an observer sees it. Views live only during the call.
struct completed_request {
    std::string_view remote;                 // the client's address as text ("127.0.0.1", "::1")
    const http::request* request = nullptr;  // nullptr when no head was parsed (400, 408, refusals)
    unsigned status = 0;
    std::uint64_t bytes = 0;        // body bytes sent (0 for HEAD and bodiless statuses)
    std::uint64_t duration_us = 0;  // head parsed → response serialized
};

/// Changes a handler's response before it is serialized. Filters run in the order they were
/// added, on the request's fiber, only for responses the handler produced (not for the
/// runtime's own error answers). May throw only std::bad_alloc: the request then gets 500.
class response_filter {
public:
    virtual ~response_filter() = default;
    virtual void filter(const http::request& req, http::response& resp) = 0;
};

/// Hears of every answered request, error answers included, once its response is serialized,
/// and of the worker's housekeeping. Every call is on the worker's thread and must not suspend.
class request_observer {
public:
    virtual ~request_observer() = default;
    virtual void on_request_completed(const completed_request& r) noexcept = 0;
    /// From the sweep timer, about four times a second.
    virtual void on_tick(std::uint64_t /*now_ms*/) noexcept {}
    /// SIGUSR1: reopen files (logrotate).
    virtual void on_reopen() noexcept {}
    /// run() is returning: write out what is buffered.
    virtual void on_stop() noexcept {}
};

}  // namespace fastfork::worker
