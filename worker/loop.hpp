#pragma once
// Loop housekeeping shared by the worker's server and the master's cycle (both run a libuv loop).

#include <uv.h>

namespace fastfork::worker {

/// Closes every handle still open on `loop`, runs it until the close callbacks are done, and
/// closes the loop. Handles closed here get no close callback: their memory must not depend on one.
inline void close_loop(uv_loop_t* loop) noexcept {
    uv_walk(
        loop,
        [](uv_handle_t* h, void*) {
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
}

}  // namespace fastfork::worker
