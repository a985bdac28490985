#include "http/stream.hpp"

#include <string>

namespace fastfork::http {

namespace {

class stream_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "fastfork.stream"; }
    std::string message(int ev) const override {
        switch (static_cast<stream_error>(ev)) {
            case stream_error::none:
                return "no error";
            case stream_error::peer_gone:
                return "the client closed the connection";
            case stream_error::timed_out:
                return "the client sent or accepted nothing within the timeout";
            case stream_error::body_too_large:
                return "the request body is larger than max_body";
            case stream_error::bad_body:
                return "the request body's chunked framing is malformed";
            case stream_error::too_much_body:
                return "more body bytes written than the declared Content-Length";
            case stream_error::no_memory:
                return "out of memory for the output buffer";
            case stream_error::not_streaming:
                return "no request stream is bound to this context";
        }
        return "unknown stream error";
    }
};

}  // namespace

const std::error_category& stream_category() noexcept {
    static const stream_category_impl cat;
    return cat;
}

unsigned status_of_stream_error(std::error_code ec) noexcept {
    if (ec == stream_error::body_too_large) return 413;
    if (ec == stream_error::bad_body) return 400;
    if (ec == stream_error::timed_out) return 408;
    return 500;
}

}  // namespace fastfork::http
