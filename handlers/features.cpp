#include "handlers/features.hpp"

#include "handlers/router.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fastfork::handlers {

features::features(const options& opts, unsigned worker_slot) : opts_(opts), gzip_(opts_) {
    if (!opts_.access_log.empty() && !access_log_.try_open(opts_.access_log, opts_.access_log_format, worker_slot))
        throw std::runtime_error("open(access_log " + opts_.access_log + ") failed: " + std::strerror(errno));
}

features::~features() {
    if (current_ == this) current_ = nullptr;
}

void features::attach(worker::server& srv) {
    if (gzip_.is_enabled()) srv.add_response_filter(gzip_);
    if (access_log_.is_enabled()) srv.add_request_observer(access_log_);
    current_ = this;
    // The `fastfork` binary's router knows which routes read their bodies themselves (echo).
    if (const auto* routed = srv.user_handler().target<routed_handler>())
        srv.set_stream_hook([r = *routed](const http::request& req) { return r.streams_body(req); });
}

const options& features::current() noexcept {
    static const options defaults{};
    return current_ ? current_->opts_ : defaults;
}

}  // namespace fastfork::handlers
