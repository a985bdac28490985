#pragma once
// The response a handler builds, and the writer that serializes it into a caller-provided
// buffer (RFC 9112 §4, §6). No I/O; the worker owns the output buffer and writes it out.

#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::http {

/// A header name the program spells itself, checked when it is compiled: `"ETag"` converts to
/// one, `"Bad Name"` (not an RFC 9110 token) or a name the writer owns (Date, Server,
/// Content-Length, Transfer-Encoding, Connection) fails the build. What add_trusted_header takes,
/// so the server's own lines pay for no check at run time.
class header_name {
public:
    // consteval: a name that fails the check throws during constant evaluation, a compile error.
    consteval header_name(const char* literal) : name_(literal) {  // NOLINT: implicit by design
        if (!is_token(name_)) throw "header_name: not an RFC 9110 token";
        if (is_writer_owned(name_)) throw "header_name: the writer sends this header itself";
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return name_; }

private:
    static constexpr bool is_writer_owned(std::string_view n) noexcept {
        for (std::string_view owned : {"Date", "Server", "Content-Length", "Transfer-Encoding", "Connection"}) {
            if (n.size() != owned.size()) continue;
            bool same = true;
            for (std::size_t i = 0; i < n.size() && same; ++i) same = (n[i] | 0x20) == (owned[i] | 0x20);
            if (same) return true;
        }
        return false;
    }
    std::string_view name_;
};

/// Whether `value` may be sent as a field value as it is: no CR, LF or NUL (RFC 9110 §5.5).
[[nodiscard]] constexpr bool is_sendable_field_value(std::string_view value) noexcept {
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

/// What a handler sets. Pooled inside request_ctx: reset() keeps the buffers' capacity.
class response {
public:
    void set_status(unsigned code) noexcept { status_ = code; }
    [[nodiscard]] unsigned status() const noexcept { return status_; }

    /// The Content-Type value. The view must outlive the response (use a literal, or
    /// set_content_type_copy for anything else).
    void set_content_type(std::string_view type) noexcept { content_type_ = type; }
    void set_content_type_copy(std::string_view type);
    [[nodiscard]] std::string_view content_type() const noexcept { return content_type_; }

    /// Adds a header line. Date, Server, Content-Length, Transfer-Encoding and Connection are the
    /// writer's; adding them here is a programmer error (they would be sent twice).
    /// Handler input goes through here: a name that is not a token is dropped, CR, LF and NUL
    /// in the value become spaces, so a value taken from a request cannot split the response.
    void add_header(std::string_view name, std::string_view value);
    /// The server's own lines (the file server's ETag, Last-Modified, Content-Range, the
    /// compressor's Vary…): the name is checked at compile time (header_name), and the caller
    /// vouches for the value, a constant or one it formatted itself with no CR, LF or NUL
    /// (asserted in debug builds, which run the whole test suite). No per-byte work.
    void add_trusted_header(header_name name, std::string_view value);
    /// The serialized extra header lines ("Name: value\r\n"…).
    [[nodiscard]] std::string_view extra_headers() const noexcept { return headers_.view(); }

    /// Replaces the body with a copy of `data`.
    void set_body(std::string_view data);
    void append_body(std::string_view data);
    /// Uses `data` as the body without copying; it must stay valid until the response is written.
    void set_body_static(std::string_view data) noexcept;
    [[nodiscard]] std::string_view body() const noexcept { return static_body_ ? static_view_ : body_.view(); }
    /// The owned body buffer, for handlers that serialize straight into it.
    [[nodiscard]] byte_buffer& body_buffer() noexcept {
        static_body_ = false;
        file_fd_ = -1;
        return body_;
    }

    /// Sends `length` bytes of the open file `fd` from `offset` as the body, instead of the
    /// in-memory one (which it clears): write_response frames it with Content-Length = length but
    /// does not copy it; the worker sends it after the head (sendfile), unless has_file_payload()
    /// says there is no body to send (HEAD, 304). The fd is borrowed: keep it open until the
    /// response is reset (see set_release_hook).
    void set_body_file(int fd, std::uint64_t offset, std::uint64_t length) noexcept;
    [[nodiscard]] bool has_file_body() const noexcept { return file_fd_ >= 0; }
    [[nodiscard]] int body_file_fd() const noexcept { return file_fd_; }
    [[nodiscard]] std::uint64_t body_file_offset() const noexcept { return file_offset_; }
    [[nodiscard]] std::uint64_t body_file_length() const noexcept { return file_length_; }

    /// Runs release(arg) once, from reset(): when the response has been written (or dropped with
    /// its connection). Lets whoever lent a file descriptor or a set_body_static view keep it
    /// alive until then. One hook per response; setting another runs the previous one first.
    /// Not run by the destructor (a pool torn down at exit drops pending hooks).
    void set_release_hook(void (*release)(void*), void* arg) noexcept;

    /// Send the body chunked (Transfer-Encoding: chunked) instead of with Content-Length.
    void set_chunked(bool on) noexcept { chunked_ = on; }
    [[nodiscard]] bool chunked() const noexcept { return chunked_; }

    /// Ask for the connection to be closed after this response.
    void set_close(bool on) noexcept { close_ = on; }
    [[nodiscard]] bool close() const noexcept { return close_; }

    /// Back to 200, no headers, empty body; storage kept.
    void reset() noexcept;

private:
    unsigned status_ = 200;
    std::string_view content_type_;
    byte_buffer headers_;
    byte_buffer body_;
    byte_buffer content_type_storage_;
    std::string_view static_view_;
    int file_fd_ = -1;  // >= 0: the body is file_length_ bytes of this file from file_offset_
    std::uint64_t file_offset_ = 0;
    std::uint64_t file_length_ = 0;
    void (*release_)(void*) = nullptr;
    void* release_arg_ = nullptr;
    bool static_body_ = false;
    bool chunked_ = false;
    bool close_ = false;
};

/// Per-response facts the writer needs besides the response itself.
struct write_options {
    std::uint8_t version_minor = 1;  // of the request: 0 for HTTP/1.0
    bool head_request = false;       // HEAD: headers as for GET, no body (RFC 9110 §9.3.2)
    bool keep_alive = true;          // the connection stays open after this response
    std::string_view date;           // the Date value (from date_cache); omitted when empty
    std::string_view server;         // the Server value; omitted when empty
};

/// Appends the serialized response to `out`. Chooses framing per RFC 9112 §6: 1xx, 204 and 304
/// carry no body and no Content-Length; chunked falls back to close-delimited for HTTP/1.0.
/// A file body is framed with Content-Length (never chunked) and not appended: see has_file_payload.
/// Connection: `close` when !keep_alive on HTTP/1.1; `keep-alive` when keep_alive on HTTP/1.0.
/// Returns whether the connection may stay open (false when the framing forces a close).
bool write_response(const response& resp, const write_options& opt, byte_buffer& out);

/// True when write_response left a file body for the caller to send after the head: the response
/// has one, the request is not HEAD and the status allows a body.
[[nodiscard]] bool has_file_payload(const response& resp, const write_options& opt) noexcept;

/// Appends a minimal complete response for `code` with a short text body and `Connection: close`
/// (used for 400/408/413/414/431/429/503/… that the server produces itself).
void write_error_response(unsigned code, std::string_view date, std::string_view server, byte_buffer& out);

/// Appends one chunk (size line, data, CRLF); empty data writes nothing.
void write_chunk(std::string_view data, byte_buffer& out);
/// Appends the last chunk and the end of the message ("0\r\n\r\n").
void write_last_chunk(byte_buffer& out);

}  // namespace fastfork::http
