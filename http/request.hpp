#pragma once
// The parsed request head: a view into the bytes the parser was fed. Built by parser, read by
// the worker (framing, keep-alive) and by handlers through request_ctx.

#include <cstdint>
#include <string_view>

#include "http/headers.hpp"
#include "http/method.hpp"

namespace fastfork::http {

/// RFC 9112 §3.2: the four forms of request-target.
enum class target_form : std::uint8_t { origin, absolute, authority, asterisk };

/// How the message body is delimited (RFC 9112 §6.3).
enum class body_framing : std::uint8_t { none, content_length, chunked };

/// Every view points into the caller's buffer and is valid while those bytes are.
struct request {
    http::method method = http::method::other;
    std::string_view method_name;  // the token as received
    std::string_view target;       // the request-target as received
    std::string_view path;   // origin-form: target up to '?'; absolute-form: the path part ("/" if empty); else empty
    std::string_view query;  // after '?', without it; empty when there is none
    target_form form = target_form::origin;
    std::uint8_t version_minor = 1;  // HTTP/1.<minor>; only 0 and 1 are accepted
    http::headers headers;
    std::string_view host;  // the Host field value (may be empty in HTTP/1.0)
    body_framing framing = body_framing::none;
    std::uint64_t content_length = 0;  // valid when framing == content_length
    bool keep_alive = true;            // after version defaults and the Connection field (RFC 9112 §9.3)
    bool expect_continue = false;      // `Expect: 100-continue` was sent
    bool has_upgrade = false;          // an Upgrade field is present (we do not switch protocols)

    /// Back to the defaults. Field by field: assigning a fresh request would copy the whole
    /// header array (several KiB) for every request, while headers::clear() only drops the count.
    void clear() noexcept {
        method = http::method::other;
        method_name = target = path = query = host = {};
        form = target_form::origin;
        version_minor = 1;
        headers.clear();
        framing = body_framing::none;
        content_length = 0;
        keep_alive = true;
        expect_continue = false;
        has_upgrade = false;
    }

    /// Re-points every view after the buffer holding the request moved from `old_base` to
    /// `new_base` (the worker grows its read buffer while a body is still arriving).
    void rebase(const char* old_base, const char* new_base) noexcept {
        auto move = [&](std::string_view& v) {
            if (v.data() == nullptr) return;
            auto offset = reinterpret_cast<std::uintptr_t>(v.data()) - reinterpret_cast<std::uintptr_t>(old_base);
            v = std::string_view(new_base + offset, v.size());
        };
        move(method_name);
        move(target);
        move(path);
        move(query);
        move(host);
        headers.rebase(move);
    }
};

}  // namespace fastfork::http
