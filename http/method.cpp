#include "http/method.hpp"

#include <cstring>

namespace fastfork::http {

namespace {

// Compares `token` with a literal of the same length; the caller has switched on the length.
template <std::size_t N>
bool is(std::string_view token, const char (&literal)[N]) noexcept {
    return std::memcmp(token.data(), literal, N - 1) == 0;
}

}  // namespace

method parse_method(std::string_view token) noexcept {
    // RFC 9110 §9.1: "The method token is case-sensitive", so "get" is an unknown method.
    switch (token.size()) {
        case 3:
            if (is(token, "GET")) return method::get;
            if (is(token, "PUT")) return method::put;
            break;
        case 4:
            if (is(token, "POST")) return method::post;
            if (is(token, "HEAD")) return method::head;
            break;
        case 5:
            if (is(token, "PATCH")) return method::patch;
            if (is(token, "TRACE")) return method::trace;
            break;
        case 6:
            if (is(token, "DELETE")) return method::delete_;
            break;
        case 7:
            if (is(token, "OPTIONS")) return method::options;
            if (is(token, "CONNECT")) return method::connect;
            break;
        default:
            break;
    }
    return method::other;
}

std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::get:
            return "GET";
        case method::head:
            return "HEAD";
        case method::post:
            return "POST";
        case method::put:
            return "PUT";
        case method::delete_:
            return "DELETE";
        case method::connect:
            return "CONNECT";
        case method::options:
            return "OPTIONS";
        case method::trace:
            return "TRACE";
        case method::patch:
            return "PATCH";
        case method::other:
            break;
    }
    return "";
}

}  // namespace fastfork::http
