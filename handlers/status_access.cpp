#include "handlers/status_access.hpp"

#include "handlers/features.hpp"
#include "http/status.hpp"

namespace fastfork::handlers {

bool may_see_status(const http::request_ctx& ctx, const http::address_list& allow) noexcept {
    return allow.allows(ctx.remote_address());
}

bool may_see_status(const http::request_ctx& ctx) noexcept {
    return may_see_status(ctx, features::current().status_allow);
}

void refuse_status(http::request_ctx& ctx) noexcept {
    ctx.set_status(403);
    ctx.set_content_type("text/plain");
    ctx.set_body_static(http::status_body(403));
}

}  // namespace fastfork::handlers
