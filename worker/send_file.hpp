#pragma once
// Zero-copy file bodies (worker): sends a range of an open file to a connection's socket with
// sendfile(2) from a request's fiber, without blocking the loop.

#include <cstdint>

#include "worker/fiber_pool.hpp"
#include "worker/options.hpp"

namespace fastfork::worker {

struct send_file_result {
    std::uint64_t sent = 0;  // bytes that reached the socket
    int error = 0;           // 0 when all `length` bytes were sent; else an errno (ETIMEDOUT: no progress)
};

/// Sends `length` bytes of `file_fd` from `offset` to the connected non-blocking socket
/// `sock_fd`, suspending the calling fiber `f` (it must be fiber_pool::current()). sendfile(2)
/// runs on libuv's thread pool through f.run_blocking, so a cold file's disk reads never stall
/// the loop; when the socket's send buffer is full, the fiber waits on the loop for writability
/// (a uv_poll_t on a dup of the socket: libuv allows one poll handle per descriptor, and the
/// uv_tcp_t owns the original), so a slow client never holds a pool thread. Fails with ETIMEDOUT
/// when the socket accepts nothing for `timeout`, with EIO when the file ends before `length`
/// (truncated while sent), or with sendfile's errno (EPIPE, ECONNRESET: the peer is gone). Both
/// descriptors are borrowed and must stay open until it returns.
[[nodiscard]] send_file_result send_file_all(fiber_pool& pool,
                                             fiber& f,
                                             int sock_fd,
                                             int file_fd,
                                             std::uint64_t offset,
                                             std::uint64_t length,
                                             millis timeout) noexcept;

}  // namespace fastfork::worker
