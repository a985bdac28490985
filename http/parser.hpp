#pragma once
// Incremental, zero-copy HTTP/1.1 request-head parser (RFC 9112 §2–§6). No I/O: the worker
// feeds it the bytes it has buffered; tests feed it byte strings.

#include <cstddef>
#include <cstdint>

#include "http/error.hpp"
#include "http/limits.hpp"
#include "http/request.hpp"

namespace fastfork::http {

/// Parses one request head at a time.
///
/// Contract: call feed() with ALL bytes buffered since the start of the current request (the same
/// prefix each time, possibly longer). The parser remembers how far it has scanned, so repeated
/// calls cost O(new bytes) until the head is complete, and every split of the same bytes gives the
/// same result. The views in request() point into the fed buffer: keep it unchanged (and not moved)
/// while they are used. When names are normalized, feed() rewrites field names in place, which is
/// why it takes a mutable buffer.
///
/// Line endings: CRLF only. A bare LF or a bare CR is rejected with error::bad_line_ending (400).
/// RFC 9112 §2.2 allows accepting a lone LF, but proxies disagree on it, and that disagreement is a
/// request-smuggling vector; every real client sends CRLF. Empty lines (CRLF) before the
/// request-line are skipped (RFC 9112 §2.2 SHOULD).
class parser {
public:
    enum class state : std::uint8_t {
        need_more,  ///< the head is incomplete; feed again with more bytes
        done,       ///< the head is complete; `consumed` bytes belong to it; request() is valid
        error,      ///< the request is invalid; answer status_of(err) and close the connection
    };
    struct result {
        std::size_t consumed = 0;  // bytes of the head (valid when state == done)
        parser::state state = state::need_more;
        http::error err = error::none;
    };

    explicit parser(const http::limits& lim = {}, bool normalize_names = true) noexcept
        : limits_(lim), normalize_names_(normalize_names) {}

    /// Scans `data[0, size)` (see the class contract). Returns need_more, done or error.
    /// After done or error, the parser must be reset() before the next request.
    [[nodiscard]] result feed(char* data, std::size_t size) noexcept;

    /// The parsed head; complete only after feed() returned done.
    [[nodiscard]] const http::request& get() const noexcept { return request_; }

    /// Prepares for the next request; keeps limits and the normalization flag.
    void reset() noexcept;

    /// After the fed buffer moved from `old_base` to `new_base`, re-points the request's views.
    void rebase(const char* old_base, const char* new_base) noexcept { request_.rebase(old_base, new_base); }

    void set_limits(const http::limits& lim) noexcept { limits_ = lim; }
    void set_normalize_names(bool on) noexcept { normalize_names_ = on; }

private:
    result on_line(char* data, std::size_t start, std::size_t lf, bool clean) noexcept;
    result on_partial(const char* data, std::size_t size) noexcept;
    http::error parse_request_line(const char* line, std::size_t size, bool clean) noexcept;
    http::error parse_field_line(char* line, std::size_t size, bool clean) noexcept;
    http::error on_field(const header_field& f) noexcept;
    http::error on_transfer_encoding(std::string_view value) noexcept;
    http::error finish_head() noexcept;
    result fail(http::error e) noexcept;

    http::limits limits_;
    bool normalize_names_;
    std::size_t scanned_ = 0;     // bytes already searched for '\n' (all of them are in complete lines but the last)
    std::size_t line_start_ = 0;  // start of the line being scanned
    std::size_t skipped_ = 0;     // bytes of leading empty lines skipped
    const char* base_ = nullptr;  // `data` of the previous feed(); views are re-pointed when it changes
    result final_{};              // the done/error result, returned again until reset()
    bool request_line_seen_ = false;
    bool line_dirty_ = false;  // the current line has a CTL: on_line() must check every byte
    bool host_seen_ = false;
    bool content_length_seen_ = false;
    bool te_seen_ = false;          // a Transfer-Encoding field was present
    bool te_last_chunked_ = false;  // the last coding listed so far is chunked
    bool te_other_ = false;         // a coding other than chunked was listed
    std::uint8_t te_chunked_ = 0;   // how many times chunked was listed (saturates at 2)
    bool connection_close_ = false;
    bool connection_keep_alive_ = false;
    http::request request_;
};

}  // namespace fastfork::http
