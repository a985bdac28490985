#include "http/error.hpp"

#include <string>

namespace fastfork::http {

unsigned status_of(error e) noexcept {
    switch (e) {
        case error::none:
            return 200;
        case error::unsupported_version:
            return 505;  // RFC 9110 §15.6.6
        case error::request_line_too_long:
            return 414;  // RFC 9112 §3: a request-target longer than we parse MUST get 414
        case error::header_too_large:
        case error::too_many_headers:
            return 431;  // RFC 6585 §5
        case error::unsupported_transfer_encoding:
            return 501;  // RFC 9112 §6.1: a transfer coding we do not understand
        case error::body_too_large:
            return 413;  // RFC 9110 §15.5.14
        default:
            return 400;
    }
}

std::string_view name_of(error e) noexcept {
    switch (e) {
        case error::none:
            return "none";
        case error::bad_request_line:
            return "bad_request_line";
        case error::bad_method:
            return "bad_method";
        case error::bad_target:
            return "bad_target";
        case error::bad_version:
            return "bad_version";
        case error::unsupported_version:
            return "unsupported_version";
        case error::request_line_too_long:
            return "request_line_too_long";
        case error::header_too_large:
            return "header_too_large";
        case error::too_many_headers:
            return "too_many_headers";
        case error::bad_line_ending:
            return "bad_line_ending";
        case error::bad_field_name:
            return "bad_field_name";
        case error::space_before_colon:
            return "space_before_colon";
        case error::obs_fold:
            return "obs_fold";
        case error::bad_field_value:
            return "bad_field_value";
        case error::missing_host:
            return "missing_host";
        case error::duplicate_host:
            return "duplicate_host";
        case error::bad_content_length:
            return "bad_content_length";
        case error::conflicting_content_length:
            return "conflicting_content_length";
        case error::content_length_with_transfer_encoding:
            return "content_length_with_transfer_encoding";
        case error::bad_transfer_encoding:
            return "bad_transfer_encoding";
        case error::unsupported_transfer_encoding:
            return "unsupported_transfer_encoding";
        case error::bad_chunk_size:
            return "bad_chunk_size";
        case error::chunk_size_overflow:
            return "chunk_size_overflow";
        case error::bad_chunk_extension:
            return "bad_chunk_extension";
        case error::bad_chunk_terminator:
            return "bad_chunk_terminator";
        case error::bad_trailer:
            return "bad_trailer";
        case error::body_too_large:
            return "body_too_large";
    }
    return "unknown";
}

namespace {

// Beast-style category: a stable name() and a message() switch. message() may allocate (it
// returns std::string by the std::error_category contract); it is only called for logs.
class http_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "fastfork.http"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
            case error::none:
                return "success";
            case error::bad_request_line:
                return "malformed request-line";
            case error::bad_method:
                return "bad method token";
            case error::bad_target:
                return "bad request-target";
            case error::bad_version:
                return "malformed HTTP-version";
            case error::unsupported_version:
                return "HTTP version not supported";
            case error::request_line_too_long:
                return "request-line too long";
            case error::header_too_large:
                return "header section too large";
            case error::too_many_headers:
                return "too many header fields";
            case error::bad_line_ending:
                return "bare CR or LF where CRLF is required";
            case error::bad_field_name:
                return "bad header field name";
            case error::space_before_colon:
                return "whitespace between field name and colon";
            case error::obs_fold:
                return "obsolete line folding";
            case error::bad_field_value:
                return "bad character in header field value";
            case error::missing_host:
                return "missing Host header";
            case error::duplicate_host:
                return "duplicate Host header";
            case error::bad_content_length:
                return "bad Content-Length";
            case error::conflicting_content_length:
                return "conflicting Content-Length values";
            case error::content_length_with_transfer_encoding:
                return "both Content-Length and Transfer-Encoding";
            case error::bad_transfer_encoding:
                return "bad Transfer-Encoding";
            case error::unsupported_transfer_encoding:
                return "unsupported transfer coding";
            case error::bad_chunk_size:
                return "bad chunk size";
            case error::chunk_size_overflow:
                return "chunk size overflow";
            case error::bad_chunk_extension:
                return "bad chunk extension";
            case error::bad_chunk_terminator:
                return "chunk data not followed by CRLF";
            case error::bad_trailer:
                return "bad trailer field";
            case error::body_too_large:
                return "body too large";
        }
        return "unknown fastfork.http error";
    }
};

}  // namespace

const std::error_category& http_category() noexcept {
    static const http_error_category category;
    return category;
}

}  // namespace fastfork::http
