#pragma once
// libfastfork's public API, for programs that bring their own handler: fastfork::Server runs one
// worker in the calling process (fasthttp's Server); fastfork::serve runs the master/worker
// machinery around the handler (fasthttp's prefork).

#include <functional>
#include <string_view>

#include "http/request_ctx.hpp"
#include "master/config.hpp"

namespace fastfork {

using RequestCtx = http::request_ctx;
/// Called once per request on a fiber; may suspend (ctx.sleep, ctx.run_blocking). An exception
/// escaping it is logged and answered with 500, and the connection is closed.
using Handler = std::function<void(RequestCtx&)>;
using Config = master::config;
/// Decides on `Expect: 100-continue` before the body is read: 100 lets the client send it, any
/// other status (417, 413, 401…) is the final answer and the body is never read.
using ContinueHook = std::function<unsigned(const http::request&)>;

/// One worker in this process, no master.
class Server {
public:
    explicit Server(Handler handler, Config cfg = {}) : handler_(std::move(handler)), cfg_(std::move(cfg)) {}

    [[nodiscard]] Config& config() noexcept { return cfg_; }
    void set_continue_hook(ContinueHook hook) { continue_hook_ = std::move(hook); }

    /// Binds every address of config().listen and serves until SIGTERM or SIGINT has drained the
    /// server (a second SIGINT, or SIGQUIT, stops at once). Returns 0 after a clean drain,
    /// 1 when an address cannot be bound, 2 when the shutdown deadline cut the drain short.
    int listen_and_serve();
    /// The same on `address` ("127.0.0.1:8080") instead of config().listen.
    int listen_and_serve(std::string_view address);

private:
    Handler handler_;
    Config cfg_;
    ContinueHook continue_hook_;
};

/// Runs a master that forks config.workers workers, each serving `handler`, and supervises them
/// until SIGTERM/SIGINT/SIGQUIT. Returns the master's exit status. With config.single_process,
/// equivalent to Server(handler, config).listen_and_serve().
/// `worker_init` runs in each worker after fork and after it has become `config.user`, before it
/// serves (open per-process resources);
/// if it throws, that worker exits with a fatal status: at start-up the master then exits 1, and
/// during a reload the new generation is rolled back while the old one keeps serving.
int serve(const Config& config, Handler handler, std::function<void()> worker_init = {});

}  // namespace fastfork
