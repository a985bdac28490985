#pragma once
// Size limits of one request, shared by the parser, the body reader and the worker's config.

#include <cstddef>
#include <cstdint>

namespace fastfork::http {

/// Compile-time capacity of a parsed header list; limits::max_headers may only lower it.
inline constexpr std::size_t header_capacity = 128;

/// Limits a request must respect. The defaults follow nginx and fasthttp where they agree.
struct limits {
    std::size_t max_request_line = 8 * 1024;   // bytes of the request-line; longer → 414
    std::size_t max_head = 16 * 1024;          // bytes of request-line + header section; larger → 431
    std::size_t max_headers = 100;             // header fields; more → 431 (≤ header_capacity)
    std::uint64_t max_body = 4 * 1024 * 1024;  // decoded body bytes; more → 413
};

}  // namespace fastfork::http
