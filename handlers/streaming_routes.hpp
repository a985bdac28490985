#pragma once
// The built-in routes that stream (worker): `echo` sends the request body back as it arrives,
// `sse_clock` is a Server-Sent Events demo. Mounted by the router like the other built-ins
// (handlers/builtin_routes.hpp); `echo` is a route that streams its request body.

#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// Any method: answers 200 with the request body, read and written back piece by piece (memory
/// bounded by one read, any size: it lifts max_body for itself unless `?max_body=N`), with the request's
/// Content-Type (else application/octet-stream) and its Content-Length when it had one (else
/// chunked). A body that fails to arrive is answered 400/408/413 when nothing was sent yet.
void echo_route(http::request_ctx& ctx);

/// text/event-stream: an event `tick` with an increasing id and the server time each
/// `interval_ms` (query, default 1000, 10..60000), up to `count` events (default 0 = until the
/// client leaves or the worker drains), a heartbeat comment every `heartbeat_ms` (default
/// 15000; 0 = none), and `retry: 3000` first.
void sse_clock_route(http::request_ctx& ctx);

}  // namespace fastfork::handlers
