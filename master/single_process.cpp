#include <unistd.h>

#include <exception>
#include <optional>
#include <vector>

#include "handlers/features.hpp"
#include "master/fastfork.hpp"
#include "master/listen_conflict.hpp"
#include "master/tls_runtime.hpp"
#include "worker/listener.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork {

int Server::listen_and_serve(std::string_view address) {
    cfg_.listen = {std::string(address)};
    return listen_and_serve();
}

int Server::listen_and_serve() {
    if (master::uses_tls(cfg_)) {
        // The contexts are built by the master before fork (master/tls_runtime.cpp); one process
        // serving TLS plainly would be worse than refusing.
        FF_LOG_ERROR("TLS listeners need the master process (not --single-process)");
        return 1;
    }
    std::vector<int> fds;
    auto close_all = [&] {
        for (int fd : fds) ::close(fd);
    };
    for (const auto& spec : cfg_.listen) {
        worker::listen_address a;
        std::string err;
        if (!worker::try_parse_listen_address(spec, a, err)) {
            FF_LOG_ERROR("listen \"%s\": %s", spec.c_str(), err.c_str());
            close_all();
            return 1;
        }
        if (std::string why = master::find_listen_conflict(a, fds); !why.empty()) {
            FF_LOG_ERROR("cannot listen on %s: %s", a.text.c_str(), why.c_str());
            close_all();
            return 1;
        }
        int fd = worker::open_listen_socket(a, cfg_.backlog);
        if (fd < 0) {
            close_all();
            return 1;
        }
        fds.push_back(fd);
    }
    master::apply_log_level(cfg_);
    std::optional<handlers::features> features;
    std::optional<worker::server> srv;
    try {
        features.emplace(cfg_.handlers, cfg_.worker.slot);  // throws when the access log cannot be opened
        srv.emplace(cfg_.worker, handler_);
        features->attach(*srv);
    } catch (const std::exception& e) {
        FF_LOG_ALERT("cannot start: %s", e.what());
        close_all();
        return 1;
    }
    for (int fd : fds) srv->add_listener(fd);
    if (continue_hook_) srv->set_continue_hook(continue_hook_);
    srv->set_shutdown_timeout(static_cast<std::uint64_t>(cfg_.shutdown_timeout.count()));
    FF_LOG_INFO("serving on %s (single process)", cfg_.listen.front().c_str());
    worker::exit_reason why = srv->run(/*ignore_sigint=*/false);
    return why == worker::exit_reason::drained ? 0 : why == worker::exit_reason::error ? 1 : 2;
}

}  // namespace fastfork
