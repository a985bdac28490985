#include "worker/listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "worker/log.hpp"

namespace fastfork::worker {

bool try_parse_listen_address(std::string_view spec, listen_address& out, std::string& error) {
    std::string_view host;
    std::string_view port_text;
    if (!spec.empty() && spec.front() == '[') {
        auto close = spec.find(']');
        if (close == std::string_view::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
            error = "expected [ipv6]:port";
            return false;
        }
        host = spec.substr(1, close - 1);
        port_text = spec.substr(close + 2);
    } else if (auto colon = spec.rfind(':'); colon != std::string_view::npos) {
        host = spec.substr(0, colon);
        port_text = spec.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            error = "an IPv6 address needs brackets: [addr]:port";
            return false;
        }
    } else {
        port_text = spec;
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
        error = "bad port \"" + std::string(port_text) + "\" (expected 0-65535)";
        return false;
    }
    out = listen_address{};
    std::string host_str(host.empty() ? "0.0.0.0" : host);
    if (host_str == "localhost") host_str = "127.0.0.1";
    if (host_str == "*") host_str = "0.0.0.0";
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    if (inet_pton(AF_INET, host_str.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        out.len = sizeof(sockaddr_in);
        out.text = host_str + ":" + std::to_string(port);
    } else if (inet_pton(AF_INET6, host_str.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        out.len = sizeof(sockaddr_in6);
        out.text = "[" + host_str + "]:" + std::to_string(port);
    } else {
        error = "bad IP address \"" + host_str + "\" (use a numeric IPv4/IPv6 address)";
        return false;
    }
    return true;
}

int open_listen_socket(const listen_address& a, int backlog) {
    int family = a.addr.ss_family;
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        FF_LOG_ERROR("socket(%s) failed: %s", a.text.c_str(), std::strerror(err));
        return -err;
    }
    int one = 1;
    const char* failed = nullptr;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        failed = "setsockopt(SO_REUSEADDR)";
    else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        failed = "setsockopt(SO_REUSEPORT)";
    else if (family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        failed = "setsockopt(IPV6_V6ONLY)";
    else if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0)
        failed = "bind";
    else if (::listen(fd, backlog) != 0)
        failed = "listen";
    if (failed) {
        int err = errno;
        FF_LOG_ERROR("%s(%s) failed: %s", failed, a.text.c_str(), std::strerror(err));
        ::close(fd);
        return -err;
    }
    return fd;
}

std::uint16_t local_port(int fd) noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return 0;
}

listener::listener(uv_loop_t* loop, int fd, accept_cb cb, void* owner, shm::worker_counters& counters) noexcept
    : fd_(fd), cb_(cb), owner_(owner), counters_(counters) {
    uv_poll_init_socket(loop, &poll_, fd);
    uv_timer_init(loop, &backoff_);
    poll_.data = this;
    backoff_.data = this;
    open_handles_ = 2;
}

int listener::start() noexcept {
    return uv_poll_start(&poll_, UV_READABLE, on_readable);
}

void listener::on_readable(uv_poll_t* handle, int status, int /*events*/) noexcept {
    auto* self = static_cast<listener*>(handle->data);
    FF_ASSERT(self);
    if (status < 0) {
        FF_LOG_ERROR("poll(listen fd %d) failed: %s", self->fd_, uv_strerror(status));
        return;
    }
    self->accept_pending();
}

void listener::accept_pending() noexcept {
    // Bounded so one busy listener cannot starve the connections already being served.
    for (int i = 0; i < 64; ++i) {
        sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            shm::add(counters_.connections_accepted);
            cb_(owner_, fd, peer);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) return;
        if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
        shm::add(counters_.accept_errors);
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            // Out of descriptors: stop polling (level-triggered epoll would report the queued
            // connections again at once and spin) and retry shortly. Queued connections wait in
            // the kernel's accept queue meanwhile; the connections we have keep being served.
            std::uint64_t now = uv_now(poll_.loop);
            if (now - last_error_log_ms_ >= 1000 || last_error_log_ms_ == 0) {
                FF_LOG_WARN("accept4() failed: %s; pausing accepts for 100 ms", std::strerror(err));
                last_error_log_ms_ = now;
            }
            uv_poll_stop(&poll_);
            uv_timer_start(&backoff_, on_backoff_done, 100, 0);
            return;
        }
        FF_LOG_ERROR("accept4() failed: %s", std::strerror(err));
        return;
    }
}

void listener::on_backoff_done(uv_timer_t* timer) noexcept {
    auto* self = static_cast<listener*>(timer->data);
    FF_ASSERT(self);
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&self->poll_))) return;
    uv_poll_start(&self->poll_, UV_READABLE, on_readable);
}

void listener::close(void (*on_closed)(listener*) noexcept) noexcept {
    on_closed_ = on_closed;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&backoff_), on_handle_closed);
}

void listener::on_handle_closed(uv_handle_t* handle) noexcept {
    auto* self = static_cast<listener*>(handle->data);
    if (--self->open_handles_ == 0 && self->on_closed_) self->on_closed_(self);
}

}  // namespace fastfork::worker
