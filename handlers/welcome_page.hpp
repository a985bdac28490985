#pragma once
// The page `fastfork` shows at "/" when it has no document root (worker): what fastfork is, how
// to configure it, and a live summary of this instance's stats from the shm segment (for
// status_allow peers).

#include <string_view>

#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// Answers the welcome page (HTML, Cache-Control: no-store) when `rest` is "" or "/" and returns
/// true; returns false, ctx untouched, for any other path. `rest` is the path below the mount
/// point (ctx.path() when mounted at "/"); the signature fits handlers/router.hpp's route_fn.
/// Stats: the whole instance from shm::current_segment() under a master, else this server's
/// own counters (`--single-process`), else none (outside a worker); only to a peer on
/// `status_allow` (a note instead for the others).
bool welcome_page(http::request_ctx& ctx, std::string_view rest);

}  // namespace fastfork::handlers
