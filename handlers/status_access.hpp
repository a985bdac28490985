#pragma once
// Who may see the instance's statistics (worker): the one check behind every status route.
// The router mounts each built-in whose table entry says builtin_access::status behind it
// (handlers/builtin_routes.hpp), so a new status route is guarded by being declared one; the
// welcome page and /healthz, which everyone may load, ask it before they show any numbers.

#include "http/address_list.hpp"
#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// Whether the peer of `ctx` is on `allow` (the `status_allow` config key). Never allocates.
[[nodiscard]] bool may_see_status(const http::request_ctx& ctx, const http::address_list& allow) noexcept;

/// The same against the options of this process (features::current()): for the pages that
/// have no options at hand.
[[nodiscard]] bool may_see_status(const http::request_ctx& ctx) noexcept;

/// Answers a peer that may not see a status route: 403 with a one-line text body, as nginx
/// answers its `deny`. The body names no address or key: it is read by the peer refused.
void refuse_status(http::request_ctx& ctx) noexcept;

}  // namespace fastfork::handlers
