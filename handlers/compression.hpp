#pragma once
// gzip of dynamic responses (worker), a response filter of the runtime: decides from the
// request's Accept-Encoding and the response (status, size, type, existing codings) whether to compress, and compresses
// with one zlib stream and one output buffer per worker, reused for every response.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "handlers/options.hpp"
#include "http/byte_buffer.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "worker/extension.hpp"

struct z_stream_s;

namespace fastfork::handlers {

/// One per worker (single-threaded). The zlib state (about 256 KiB at the default memLevel) is
/// allocated on the first compressed response, so a worker that never compresses pays nothing.
class compressor final : public worker::response_filter {
public:
    /// Uses opts.gzip, opts.gzip_min_length and opts.gzip_level (clamped to 1..9).
    explicit compressor(const options& opts);
    ~compressor() override;
    compressor(const compressor&) = delete;
    compressor& operator=(const compressor&) = delete;

    /// False when the `gzip` setting is off: the caller skips maybe_compress.
    [[nodiscard]] bool is_enabled() const noexcept { return enabled_; }

    /// Called after the handler, before the response is serialized. A response is *eligible*
    /// when its status is 200, its body has at least gzip_min_length bytes, its content type is
    /// compressible (is_compressible_type) and it carries no Content-Encoding, Content-Range or
    /// ETag (a strong validator names the exact bytes: static files keep theirs, and their
    /// precompressed siblings) and no Cache-Control no-transform. An eligible response gets
    /// `Vary: Accept-Encoding`; if the request also accepts gzip (accepts_gzip) and the result
    /// is smaller, its body is replaced by the gzip member and `Content-Encoding: gzip` is added.
    /// Returns whether it compressed. Throws only bad_alloc (from the response's buffers); a zlib
    /// failure leaves the body as it was. HEAD is treated like GET, so both send the same headers.
    bool maybe_compress(const http::request& req, http::response& resp);

    /// The response filter: maybe_compress when enabled.
    void filter(const http::request& req, http::response& resp) override {
        if (enabled_) maybe_compress(req, resp);
    }

    /// Compresses `in` as one gzip member (RFC 1952) into the worker's buffer; the view is valid
    /// until the next call. Returns false (and an empty view) when zlib fails or when the output
    /// would not be smaller than the input.
    [[nodiscard]] bool try_gzip(std::string_view in, std::string_view& out);

    /// Compresses `in` as one gzip member at zlib `level` (clamped to 1..9) into `out`, replacing
    /// its contents, with a zlib stream of its own: safe on any thread (the file server runs it on
    /// the thread pool, once per file version). `out` holds exactly the member afterwards. False,
    /// with `out` empty, when zlib or an allocation fails or when the member would not be smaller
    /// than `in`. Costs a deflateInit2 (about 256 KiB, freed on return) per call.
    [[nodiscard]] static bool try_gzip_once(std::string_view in, int level, std::string& out) noexcept;

    /// Whether an Accept-Encoding value allows gzip (RFC 9110 §12.5.3): "gzip" or "x-gzip" with
    /// q > 0, or "*" with q > 0 when gzip is not listed; case-insensitive. Empty: false.
    [[nodiscard]] static bool accepts_gzip(std::string_view accept_encoding) noexcept;
    /// Whether a media type compresses well: text/*, application/json, application/javascript,
    /// application/xml and the +json and +xml suffixes, image/svg+xml and a few more; parameters
    /// (";charset=…") are ignored, case-insensitive.
    [[nodiscard]] static bool is_compressible_type(std::string_view content_type) noexcept;
    /// Whether the handler's header lines make its body one to send as it is: Content-Encoding,
    /// Content-Range, ETag, or Cache-Control: no-transform. One pass, whatever their number.
    [[nodiscard]] static bool headers_forbid_compression(std::string_view lines) noexcept;

private:
    struct stream_deleter {
        void operator()(z_stream_s* s) const noexcept;
    };
    bool enabled_;
    int level_;
    std::size_t min_length_;
    std::unique_ptr<z_stream_s, stream_deleter> stream_;  // deflateInit2'ed on first use
    bool init_failed_ = false;
    http::byte_buffer out_;
};

}  // namespace fastfork::handlers
