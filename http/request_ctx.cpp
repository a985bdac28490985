#include "http/request_ctx.hpp"

#include <algorithm>
#include <cstring>

namespace fastfork::http {

// What a ctx views between requests, so request() never dereferences a dangling pointer.
const http::request request_ctx::empty_request_{};

const query_args& request_ctx::args() {
    if (!args_parsed_) {
        const std::string_view query = request_->query;
        // Decoded keys and values never exceed the raw query, so one reservation suffices; it is
        // a no-op once the pooled buffer has seen a query this long.
        args_storage_.reserve(query.size());
        args_.parse(query, args_storage_.data());
        args_parsed_ = true;
    }
    return args_;
}

bool request_ctx::set_user_value(std::string_view key, void* value) noexcept {
    for (std::size_t i = 0; i < user_value_count_; ++i) {
        if (user_values_[i].first == key) {
            user_values_[i].second = value;
            return true;
        }
    }
    if (user_value_count_ == user_value_capacity) return false;
    user_values_[user_value_count_++] = {key, value};
    return true;
}

void* request_ctx::user_value(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < user_value_count_; ++i)
        if (user_values_[i].first == key) return user_values_[i].second;
    return nullptr;
}

void request_ctx::set_remote(std::string_view ip, std::uint16_t port) noexcept {
    // INET6_ADDRSTRLEN - 1 characters is the longest textual address (an IPv4-mapped IPv6 one).
    remote_ip_len_ = std::min(ip.size(), sizeof remote_ip_ - 1);
    if (remote_ip_len_ != 0) std::memcpy(remote_ip_, ip.data(), remote_ip_len_);
    remote_ip_[remote_ip_len_] = '\0';
    remote_port_ = port;
    remote_format_ = nullptr;
    remote_addr_len_ = 0;  // the text is all that is known
}

void request_ctx::reset() noexcept {
    // The remote address and connection id belong to the connection, which sets them when it
    // takes the ctx and keeps it for every pipelined or keep-alive request; they survive here.
    request_ = &empty_request_;
    body_ = {};
    exec_ = nullptr;
    body_stream_.bind(nullptr, {});
    sink_ = nullptr;
    response_.reset();
    args_.clear();
    args_storage_.clear();
    args_parsed_ = false;
    for (std::size_t i = 0; i < user_value_count_; ++i) user_values_[i] = {};
    user_value_count_ = 0;
    takeover_ = nullptr;
}

}  // namespace fastfork::http
