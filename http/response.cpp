#include "http/response.hpp"

#include <array>
#include <cassert>
#include <cstring>
#include <utility>

#include "http/field.hpp"
#include "http/rfc9110.hpp"
#include "http/status.hpp"

namespace fastfork::http {

namespace {

constexpr std::string_view crlf = "\r\n";

// memcpy with a null source is undefined even for zero bytes, and an empty string_view may have
// a null data(); every copy goes through here.
inline char* put(char* p, std::string_view s) noexcept {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

// Whether `s` lies inside `b`'s storage (a caller passing the response's own body back in).
bool points_into(const byte_buffer& b, std::string_view s) noexcept {
    if (b.data() == nullptr || s.data() == nullptr) return false;
    const auto base = reinterpret_cast<std::uintptr_t>(b.data());
    const auto at = reinterpret_cast<std::uintptr_t>(s.data());
    return at >= base && at < base + b.capacity();
}

// Headers the writer emits itself (see add_header's contract).
[[maybe_unused]] bool is_writer_owned(std::string_view name) noexcept {
    switch (lookup_field(name)) {
        case field::date:
        case field::server:
        case field::content_length:
        case field::transfer_encoding:
        case field::connection:
            return true;
        default:
            return false;
    }
}

constexpr std::string_view server_prefix = "Server: ";
constexpr std::string_view date_prefix = "Date: ";
constexpr std::string_view content_type_prefix = "Content-Type: ";
constexpr std::string_view content_length_prefix = "Content-Length: ";
constexpr std::string_view chunked_line = "Transfer-Encoding: chunked\r\n";
constexpr std::string_view close_line = "Connection: close\r\n";
constexpr std::string_view keep_alive_line = "Connection: keep-alive\r\n";
constexpr std::string_view upgrade_line = "Connection: Upgrade\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

// Upper bound of everything write_response adds besides the caller's strings: the longest
// status line (well under 64 bytes), every prefix and CRLF, 20 digits of Content-Length, the
// Connection line, and one chunk's framing (16 hex digits, two CRLFs) plus the last chunk.
constexpr std::size_t fixed_overhead = 64 + server_prefix.size() + date_prefix.size() + content_type_prefix.size() +
                                       content_length_prefix.size() + 20 + chunked_line.size() +
                                       keep_alive_line.size() + 4 * crlf.size() + crlf.size() + 16 + 2 * crlf.size() +
                                       last_chunk.size();

// status_line() answers out-of-range codes with the 500 line; the framing must agree with it.
unsigned sendable(unsigned code) noexcept {
    return code >= 100 && code <= 599 ? code : 500;
}

// RFC 9110 §6.4.1: 1xx, 204 and 304 never have content.
bool is_bodiless(unsigned code) noexcept {
    return code < 200 || code == 204 || code == 304;
}

/// The lines every response head starts with, buffered or streamed: status, Server, Date and
/// Content-Type (the last three only when set).
inline char* put_leading_lines(char* p, unsigned code, const write_options& opt, std::string_view type) noexcept {
    p = put(p, status_line(code));
    if (!opt.server.empty()) {
        p = put(p, server_prefix);
        p = put(p, opt.server);
        p = put(p, crlf);
    }
    if (!opt.date.empty()) {
        p = put(p, date_prefix);
        p = put(p, opt.date);
        p = put(p, crlf);
    }
    if (!type.empty()) {
        p = put(p, content_type_prefix);
        p = put(p, type);
        p = put(p, crlf);
    }
    return p;
}
}  // namespace

void response::set_content_type_copy(std::string_view type) {
    if (points_into(content_type_storage_, type)) {
        content_type_ = type;  // already ours (a view of the stored copy)
        return;
    }
    content_type_storage_.clear();
    content_type_storage_.append(type);
    content_type_ = content_type_storage_.view();
}

void response::add_header(std::string_view name, std::string_view value) {
    assert(!is_writer_owned(name) && "the writer sends Date, Server, Content-Length, Transfer-Encoding, Connection");
    // A name that is not a token would corrupt the head; drop it rather than send a broken
    // response (Go's net/http does the same).
    if (!is_token(name)) return;

    char* const begin = headers_.prepare(name.size() + 2 + value.size() + 2);
    char* p = put(begin, name);
    p = put(p, ": ");
    // RFC 9110 §5.5: CR, LF and NUL are never valid in a field value. A value from user input
    // carrying CRLF would otherwise split the response (header injection); like Go's net/http,
    // replace them with spaces.
    char* const v = p;
    p = put(p, value);
    for (char* q = v; q != p; ++q)
        if (*q == '\r' || *q == '\n' || *q == '\0') *q = ' ';
    p = put(p, crlf);
    headers_.commit(static_cast<std::size_t>(p - begin));
}

void response::add_trusted_header(header_name name, std::string_view value) {
    assert(is_sendable_field_value(value) && "a trusted header value carries CR, LF or NUL");
    const std::string_view n = name.view();
    char* const begin = headers_.prepare(n.size() + 2 + value.size() + 2);
    char* p = put(begin, n);
    p = put(p, ": ");
    p = put(p, value);
    p = put(p, crlf);
    headers_.commit(static_cast<std::size_t>(p - begin));
}

void response::set_body(std::string_view data) {
    file_fd_ = -1;
    if (!static_body_ && points_into(body_, data)) {
        // A slice of our own body: move it to the front instead of copying from freed memory.
        std::memmove(body_.data(), data.data(), data.size());
        body_.resize(data.size());
        return;
    }
    static_body_ = false;
    static_view_ = {};
    body_.clear();
    body_.append(data);
}

void response::append_body(std::string_view data) {
    // `data` may be a slice of our own body (appending the body to itself). Growing may move the
    // storage, so remember the slice by offset before anything is reserved.
    const bool own = !static_body_ && points_into(body_, data);
    file_fd_ = -1;
    const std::size_t offset = own ? static_cast<std::size_t>(data.data() - body_.data()) : 0;
    if (static_body_) {
        // Appending to a borrowed body: make it owned first, then append.
        const std::string_view borrowed = static_view_;
        static_body_ = false;
        static_view_ = {};
        body_.clear();
        body_.reserve(borrowed.size() + data.size());
        body_.append(borrowed);
    }
    char* const at = body_.prepare(data.size());
    const char* const from = own ? body_.data() + offset : data.data();
    if (!data.empty()) std::memmove(at, from, data.size());
    body_.commit(data.size());
}

void response::set_body_static(std::string_view data) noexcept {
    file_fd_ = -1;
    static_view_ = data;
    static_body_ = true;
    body_.clear();
}

void response::set_body_file(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
    static_body_ = false;
    static_view_ = {};
    body_.clear();
    file_fd_ = fd;
    file_offset_ = offset;
    file_length_ = length;
}

void response::set_release_hook(void (*release)(void*), void* arg) noexcept {
    if (release_) release_(release_arg_);
    release_ = release;
    release_arg_ = arg;
}

void response::reset() noexcept {
    if (release_) {
        // Cleared before the call: the hook may be re-entered through a new response.
        auto* release = std::exchange(release_, nullptr);
        release(std::exchange(release_arg_, nullptr));
    }
    file_fd_ = -1;
    file_offset_ = file_length_ = 0;
    status_ = 200;
    content_type_ = {};
    headers_.clear();
    body_.clear();
    content_type_storage_.clear();
    static_view_ = {};
    static_body_ = false;
    chunked_ = false;
    close_ = false;
}

bool write_response(const response& resp, const write_options& opt, byte_buffer& out) {
    const unsigned code = sendable(resp.status());
    // RFC 9110 §8.6: no Content-Length on 1xx and 204; on 304 we leave it out rather than repeat
    // the selected representation's (RFC 9110 §15.4.5 makes it optional).
    const bool bodiless_status = is_bodiless(code);
    const bool http10 = opt.version_minor == 0;
    const bool file = resp.has_file_body();
    // A file body has a known length: Content-Length framing, so the worker can sendfile it.
    bool chunked = resp.chunked() && !bodiless_status && !file;
    bool close_delimited = false;
    if (chunked && http10) {
        // RFC 9112 §6.1: chunked must not be sent to an HTTP/1.0 recipient; the body is then
        // delimited by closing the connection (RFC 9112 §6.3, last rule).
        chunked = false;
        close_delimited = true;
    }
    const bool keep_alive = opt.keep_alive && !resp.close() && !close_delimited;
    const std::string_view body = file ? std::string_view() : resp.body();
    const std::uint64_t content_length = file ? resp.body_file_length() : body.size();
    // RFC 9110 §9.3.2: a HEAD response carries the GET response's header fields, no content.
    const bool send_body = !opt.head_request && !bodiless_status;
    const std::string_view type = resp.content_type();
    const std::string_view extra = resp.extra_headers();

    // One reservation for the whole response, then straight copies: this runs once per request.
    const std::size_t bound = fixed_overhead + opt.server.size() + opt.date.size() + type.size() + extra.size() +
                              (send_body ? body.size() : 0);
    char* const begin = out.prepare(bound);
    char* p = put_leading_lines(begin, code, opt, type);
    if (chunked) {
        p = put(p, chunked_line);
    } else if (!bodiless_status && !close_delimited) {
        p = put(p, content_length_prefix);
        p = put_decimal(p, content_length);
        p = put(p, crlf);
    }
    // RFC 9112 §9.3: HTTP/1.1 persists unless "close" is sent; HTTP/1.0 closes unless
    // "keep-alive" is sent.
    if (code == 101) {
        // RFC 9110 §7.8: a 101 names the upgrade in Connection; the connection then carries
        // the new protocol, so neither keep-alive nor close applies.
        p = put(p, upgrade_line);
    } else if (http10) {
        if (keep_alive) p = put(p, keep_alive_line);
    } else if (!keep_alive) {
        p = put(p, close_line);
    }
    p = put(p, extra);
    p = put(p, crlf);
    if (send_body) {
        if (chunked) {
            if (!body.empty()) {
                p = put_hex(p, body.size());
                p = put(p, crlf);
                p = put(p, body);
                p = put(p, crlf);
            }
            p = put(p, last_chunk);
        } else {
            p = put(p, body);
        }
    }
    out.commit(static_cast<std::size_t>(p - begin));
    return keep_alive;
}

stream_head write_stream_head(
    const response& resp, const write_options& opt, bool sized, std::uint64_t length, byte_buffer& out) {
    const unsigned code = sendable(resp.status());
    const bool bodiless_status = is_bodiless(code);
    const bool http10 = opt.version_minor == 0;
    stream_framing framing = bodiless_status ? stream_framing::none
                             : sized         ? stream_framing::sized
                             : http10        ? stream_framing::close_delimited
                                             : stream_framing::chunked;
    const bool keep_alive = opt.keep_alive && !resp.close() && framing != stream_framing::close_delimited;
    const std::string_view type = resp.content_type();
    const std::string_view extra = resp.extra_headers();
    const std::size_t bound = fixed_overhead + opt.server.size() + opt.date.size() + type.size() + extra.size();
    char* const begin = out.prepare(bound);
    char* p = put_leading_lines(begin, code, opt, type);
    if (framing == stream_framing::chunked) {
        p = put(p, chunked_line);
    } else if (framing == stream_framing::sized) {
        p = put(p, content_length_prefix);
        p = put_decimal(p, length);
        p = put(p, crlf);
    }
    if (http10) {
        if (keep_alive) p = put(p, keep_alive_line);
    } else if (!keep_alive) {
        p = put(p, close_line);
    }
    p = put(p, extra);
    p = put(p, crlf);
    out.commit(static_cast<std::size_t>(p - begin));
    // RFC 9110 §9.3.2: HEAD gets the headers only.
    if (opt.head_request) framing = stream_framing::none;
    return {keep_alive, framing};
}

bool has_file_payload(const response& resp, const write_options& opt) noexcept {
    return resp.has_file_body() && !opt.head_request && !is_bodiless(sendable(resp.status()));
}

void write_error_response(unsigned status, std::string_view date, std::string_view server, byte_buffer& out) {
    const unsigned code = sendable(status);
    const std::string_view line = status_line(code);
    const std::string_view text = status_body(code);  // "400 Bad Request\n"
    const bool bodiless_status = is_bodiless(code);
    constexpr std::string_view type_line = "Content-Type: text/plain; charset=utf-8\r\n";

    const std::size_t bound = fixed_overhead + type_line.size() + server.size() + date.size() + text.size();
    char* const begin = out.prepare(bound);
    char* p = put(begin, line);
    if (!server.empty()) {
        p = put(p, server_prefix);
        p = put(p, server);
        p = put(p, crlf);
    }
    if (!date.empty()) {
        p = put(p, date_prefix);
        p = put(p, date);
        p = put(p, crlf);
    }
    if (!bodiless_status) {
        p = put(p, type_line);
        p = put(p, content_length_prefix);
        p = put_decimal(p, text.size());
        p = put(p, crlf);
    }
    p = put(p, close_line);
    p = put(p, crlf);
    if (!bodiless_status) p = put(p, text);
    out.commit(static_cast<std::size_t>(p - begin));
}

void write_chunk(std::string_view data, byte_buffer& out) {
    // RFC 9112 §7.1: a zero-size chunk is the last chunk, so empty data must not produce one.
    if (data.empty()) return;
    char* const begin = out.prepare(16 + crlf.size() + data.size() + crlf.size());
    char* p = put_hex(begin, data.size());
    p = put(p, crlf);
    p = put(p, data);
    p = put(p, crlf);
    out.commit(static_cast<std::size_t>(p - begin));
}

void write_last_chunk(byte_buffer& out) {
    out.append(last_chunk);
}

}  // namespace fastfork::http
