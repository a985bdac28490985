#include "http/static_file.hpp"

#include <cstring>

#include "http/rfc9110.hpp"
#include "http/uri.hpp"

namespace fastfork::http {

// ---------------------------------------------------------------- path resolution

resolved_path resolve_request_path(std::string_view raw_path, char* out) noexcept {
    resolved_path r;
    if (raw_path.empty() || raw_path.front() != '/') {
        r.status = 400;
        return r;
    }
    // Checked before decoding: after it, an encoded slash is indistinguishable from a real one.
    for (std::size_t i = 0; i + 2 < raw_path.size(); ++i) {
        if (raw_path[i] == '%' && raw_path[i + 1] == '2' && (raw_path[i + 2] == 'f' || raw_path[i + 2] == 'F')) {
            r.status = 404;
            return r;
        }
    }
    const std::size_t n = percent_decode(raw_path, out, /*plus_as_space=*/false);
    if (n == std::string_view::npos) {
        r.status = 400;
        return r;
    }
    const std::string_view decoded(out, n);
    if (decoded.find('\0') != std::string_view::npos) {
        r.status = 404;
        return r;
    }
    if (decoded.find('\\') != std::string_view::npos) {
        r.status = 403;
        return r;
    }
    // Compact the segments in place: the write position never passes the read position.
    std::size_t w = 0;
    bool last_was_dir = true;  // "/" alone names the root directory
    std::size_t pos = 0;
    while (pos < n) {
        std::size_t end = decoded.find('/', pos);
        if (end == std::string_view::npos) end = n;
        const std::string_view seg = decoded.substr(pos, end - pos);
        pos = end + 1;
        if (seg.empty() || seg == ".") {
            last_was_dir = true;
            continue;
        }
        if (seg == "..") {
            r.status = 403;
            return r;
        }
        if (w != 0) out[w++] = '/';
        std::memmove(out + w, seg.data(), seg.size());
        w += seg.size();
        last_was_dir = end != n;
    }
    // A path ending in "/x" leaves last_was_dir false; "/x/" and "/x/." set it back to true.
    if (!decoded.empty() && decoded.back() == '/') last_was_dir = true;
    if (w > max_relative_path) {
        r.status = 404;
        return r;
    }
    r.relative = std::string_view(out, w);
    r.trailing_slash = last_was_dir;
    return r;
}

// ---------------------------------------------------------------- directory listings

void append_html_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
}

void append_uri_escaped(std::string& out, std::string_view segment) {
    for (char c : segment) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                                u == '-' || u == '.' || u == '_' || u == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += hex_digits_upper[u >> 4];
            out += hex_digits_upper[u & 15];
        }
    }
}

}  // namespace fastfork::http
