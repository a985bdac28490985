#pragma once
// Incremental request-body decoder for Content-Length and chunked framing (RFC 9112 §6–§7).
// Decodes in place when the caller passes out == in. No I/O, no allocation.

#include <cstddef>
#include <cstdint>

#include "http/error.hpp"
#include "http/request.hpp"

namespace fastfork::http {

class body_reader {
public:
    enum class state : std::uint8_t { need_more, done, error };
    struct result {
        std::size_t consumed = 0;  // input bytes used; the caller drops them even if state == error
        std::size_t produced = 0;  // decoded body bytes written at `out`
        body_reader::state state = state::need_more;
        http::error err = error::none;
    };

    /// Starts a body with the framing of `req`; a body over `max_body` decoded bytes fails with
    /// error::body_too_large (checked against Content-Length up front, and as chunks arrive).
    void start(const http::request& req, std::uint64_t max_body) noexcept;

    /// Decodes from `in[0, size)` and writes body bytes to `out`, which may equal `in` or lie
    /// before it (memmove semantics): in-place decoding compacts the body towards the head.
    /// Stops at the end of the body; bytes after it (a pipelined request) are not consumed.
    [[nodiscard]] result feed(const char* in, std::size_t size, char* out) noexcept;

    [[nodiscard]] bool is_done() const noexcept { return phase_ == phase::done; }
    /// Decoded body bytes so far.
    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
    /// Bytes still expected for a Content-Length body (0 for chunked or when done).
    [[nodiscard]] std::uint64_t remaining() const noexcept;

private:
    enum class phase : std::uint8_t {
        length_body,    // reading a Content-Length body
        chunk_size,     // reading hex digits of a chunk-size
        chunk_ext,      // inside chunk extensions, up to CR (sub_ holds the position in the grammar)
        chunk_size_lf,  // saw CR after size/extension, expect LF
        chunk_data,     // reading chunk data
        chunk_data_cr,  // expect CR after chunk data
        chunk_data_lf,  // expect LF after chunk data
        trailer_line,   // inside a trailer field line (or at the start of one; sub_ says where)
        trailer_lf,     // saw CR in a trailer line, expect LF (sub_ says whether it ends the body)
        done,
        failed,  // err_ is returned by every feed() until start()
    };
    result fail(http::error e, std::size_t consumed, std::size_t produced) noexcept;

    phase phase_ = phase::done;
    http::error err_ = error::none;  // when phase_ == failed
    std::uint8_t sub_ = 0;           // state inside a chunk extension or trailer line
    std::uint64_t max_body_ = 0;
    std::uint64_t remaining_ = 0;  // of the Content-Length body, or of the current chunk
    std::uint64_t total_ = 0;
    std::uint32_t size_digits_ = 0;    // hex digits read of the current chunk-size
    std::uint32_t line_length_ = 0;    // bytes of the current chunk-size line (bounded)
    std::uint32_t trailer_bytes_ = 0;  // total trailer section size (bounded)
};

}  // namespace fastfork::http
