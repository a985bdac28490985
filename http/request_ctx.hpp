#pragma once
// fastfork's RequestCtx: the one object a handler sees (request view, response builder, user
// values, suspension). Pooled by the worker: reset() clears it and keeps its storage.

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "http/byte_buffer.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/uri.hpp"

namespace fastfork::http {

/// What a handler may wait on. Implemented by the worker with fibers; http/ only knows the interface.
class executor {
public:
    /// Suspends the calling handler for `d` without blocking the worker's loop.
    virtual void sleep(std::chrono::milliseconds d) = 0;
    /// Runs fn(arg) on a thread pool and resumes the handler when it returns.
    virtual void run_blocking(void (*fn)(void*), void* arg) = 0;

protected:
    ~executor() = default;
};

class request_ctx {
public:
    // ---- request (views valid for the duration of the handler call) ----
    [[nodiscard]] const http::request& request() const noexcept { return *request_; }
    [[nodiscard]] http::method method() const noexcept { return request_->method; }
    [[nodiscard]] std::string_view method_name() const noexcept { return request_->method_name; }
    [[nodiscard]] std::string_view target() const noexcept { return request_->target; }
    [[nodiscard]] std::string_view path() const noexcept { return request_->path; }
    [[nodiscard]] std::string_view query_string() const noexcept { return request_->query; }
    [[nodiscard]] bool is_head() const noexcept { return request_->method == http::method::head; }
    [[nodiscard]] const http::headers& headers() const noexcept { return request_->headers; }
    /// The first value of header `name` (case-insensitive), or an empty view.
    [[nodiscard]] std::string_view header(std::string_view name) const noexcept { return request_->headers.get(name); }
    [[nodiscard]] std::string_view header(field f) const noexcept { return request_->headers.get(f); }
    /// The decoded request body (Content-Length or de-chunked).
    [[nodiscard]] std::string_view body() const noexcept { return body_; }
    /// Decoded query arguments, parsed on first use.
    [[nodiscard]] const query_args& args();
    /// The decoded value of query argument `key`, or an empty view.
    [[nodiscard]] std::string_view arg(std::string_view key) { return args().get(key); }

    /// The peer's address as text ("127.0.0.1", "::1") and port.
    /// Formatted on first use: most handlers never ask, and formatting costs more than the
    /// rest of a plaintext request's user-space work.
    [[nodiscard]] std::string_view remote_ip() const noexcept {
        if (remote_format_) {
            remote_ip_len_ = remote_format_(remote_source_, remote_ip_, sizeof remote_ip_);
            remote_format_ = nullptr;
        }
        return {remote_ip_, remote_ip_len_};
    }
    [[nodiscard]] std::uint16_t remote_port() const noexcept { return remote_port_; }
    /// The peer's address as raw bytes in network order: 4 (IPv4) or 16 (IPv6, an IPv4 client
    /// on a dual-stack socket as ::ffff:a.b.c.d); empty when unknown. What allow-lists match
    /// (http/address_list.hpp): no text, no allocation.
    [[nodiscard]] std::span<const std::uint8_t> remote_address() const noexcept {
        return {remote_addr_, remote_addr_len_};
    }
    /// Worker-unique id of the connection, and 1-based number of this request on it.
    [[nodiscard]] std::uint64_t connection_id() const noexcept { return connection_id_; }
    [[nodiscard]] std::uint64_t request_number() const noexcept { return request_number_; }

    // ---- response ----
    [[nodiscard]] http::response& response() noexcept { return response_; }
    void set_status(unsigned code) noexcept { response_.set_status(code); }
    void set_content_type(std::string_view t) noexcept { response_.set_content_type(t); }
    void add_header(std::string_view name, std::string_view value) { response_.add_header(name, value); }
    /// See response::add_trusted_header: for lines the server spells and formats itself.
    void add_trusted_header(http::header_name name, std::string_view value) {
        response_.add_trusted_header(name, value);
    }
    void set_body(std::string_view b) { response_.set_body(b); }
    void append_body(std::string_view b) { response_.append_body(b); }
    void set_body_static(std::string_view b) noexcept { response_.set_body_static(b); }

    // ---- per-request user values (fasthttp's SetUserValue) ----
    static constexpr std::size_t user_value_capacity = 8;
    /// Stores `value` under `key` (the key view must outlive the request); false when full.
    bool set_user_value(std::string_view key, void* value) noexcept;
    [[nodiscard]] void* user_value(std::string_view key) const noexcept;

    // ---- suspension (only inside a handler run by the worker) ----
    void sleep(std::chrono::milliseconds d) { exec_->sleep(d); }
    /// Runs `f()` on libuv's thread pool; the handler resumes when it returns. `f` must not throw
    /// and must not touch this ctx.
    template <class F>
    void run_blocking(F&& f) {
        using fn_t = std::remove_reference_t<F>;
        exec_->run_blocking([](void* p) { (*static_cast<fn_t*>(p))(); }, &f);
    }

    // ---- worker side ----
    /// Binds the ctx to a parsed request and its decoded body. `req` must outlive the handler call.
    void bind(const http::request* req, std::string_view body, executor* exec) noexcept {
        request_ = req;
        body_ = body;
        exec_ = exec;
    }
    void set_connection(std::uint64_t id, std::uint64_t request_number) noexcept {
        connection_id_ = id;
        request_number_ = request_number;
    }
    void set_remote(std::string_view ip, std::uint16_t port) noexcept;
    /// Writes the peer's address as text into out[0, cap) and returns its length.
    using remote_formatter = std::size_t (*)(const void* source, char* out, std::size_t cap) noexcept;
    /// Like set_remote, but the text is produced by format(source, …) only if remote_ip() is
    /// called; `source` must outlive the ctx's use by this connection.
    void set_remote_source(const void* source, remote_formatter format, std::uint16_t port) noexcept {
        remote_source_ = source;
        remote_format_ = format;
        remote_ip_len_ = 0;
        remote_port_ = port;
    }
    /// Sets the raw address remote_address() returns (`size` 4 or 16; anything else: unknown).
    void set_remote_address(const std::uint8_t* bytes, std::size_t size) noexcept {
        remote_addr_len_ = size == 4 || size == 16 ? static_cast<std::uint8_t>(size) : 0;
        for (std::size_t i = 0; i < remote_addr_len_; ++i) remote_addr_[i] = bytes[i];
    }
    /// Clears request and response for reuse; keeps every buffer's capacity.
    void reset() noexcept;

private:
    const http::request* request_ = &empty_request_;
    std::string_view body_;
    executor* exec_ = nullptr;
    http::response response_;
    query_args args_;
    byte_buffer args_storage_;
    bool args_parsed_ = false;
    std::uint64_t connection_id_ = 0;
    std::uint64_t request_number_ = 0;
    mutable char remote_ip_[46] = {};
    mutable std::size_t remote_ip_len_ = 0;
    mutable remote_formatter remote_format_ = nullptr;
    const void* remote_source_ = nullptr;
    std::uint16_t remote_port_ = 0;
    std::uint8_t remote_addr_len_ = 0;
    std::uint8_t remote_addr_[16] = {};
    std::pair<std::string_view, void*> user_values_[user_value_capacity] = {};
    std::size_t user_value_count_ = 0;

    static const http::request empty_request_;
};

}  // namespace fastfork::http
