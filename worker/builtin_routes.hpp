#pragma once
// The routes `fastfork` serves on its own (worker): /plaintext and /json (the benchmark
// surface), /sleep?ms=N (suspends the fiber), /healthz (names the worker), 404 for the rest.

#include "http/request_ctx.hpp"

namespace fastfork::worker {

/// Answers the built-in routes; /healthz reports on server::current().
class builtin_routes {
public:
    /// Handles the request if its path is a built-in route; returns false (ctx untouched) otherwise.
    bool try_handle(http::request_ctx& ctx) const;
    /// try_handle, then 404.
    void operator()(http::request_ctx& ctx) const;
};

}  // namespace fastfork::worker
