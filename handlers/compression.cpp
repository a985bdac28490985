#include "handlers/compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "http/content_coding.hpp"
#include "http/field.hpp"
#include "http/rfc9110.hpp"
#include "worker/log.hpp"

namespace fastfork::handlers {

namespace {

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && http::iequals(s.substr(s.size() - suffix.size()), suffix);
}

// Media types that are text in all but name. Anything ending in +json or +xml is covered by
// the suffix rule (RFC 6839) and needs no entry.
constexpr std::string_view compressible_types[] = {
    "application/json",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/xml",
    "application/x-ndjson",
    "application/wasm",
    "application/x-yaml",
    "application/yaml",
    "application/vnd.ms-fontobject",
    "font/ttf",
    "font/otf",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/bmp",
};

}  // namespace

void compressor::stream_deleter::operator()(z_stream_s* s) const noexcept {
    deflateEnd(s);
    delete s;
}

compressor::compressor(const options& opts)
    : enabled_(opts.gzip), level_(std::clamp(opts.gzip_level, 1, 9)), min_length_(opts.gzip_min_length) {}

compressor::~compressor() = default;

bool compressor::accepts_gzip(std::string_view value) noexcept {
    // The same RFC 9110 §12.5.3 reading (q-values, "*", x-gzip) as for precompressed files.
    return http::choose_coding(value, /*have_br=*/false, /*have_gzip=*/true) == http::content_coding::gzip;
}

bool compressor::is_compressible_type(std::string_view content_type) noexcept {
    const std::string_view media = http::trim_ows(content_type.substr(0, content_type.find(';')));
    if (media.empty()) return false;
    if (istarts_with(media, "text/")) return true;
    if (iends_with(media, "+json") || iends_with(media, "+xml")) return true;
    for (std::string_view t : compressible_types)
        if (http::iequals(media, t)) return true;
    return false;
}

std::string_view compressor::find_header(std::string_view lines, std::string_view name, bool& found) noexcept {
    found = false;
    while (!lines.empty()) {
        const auto eol = lines.find("\r\n");
        const std::string_view line = lines.substr(0, eol);
        lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || !http::iequals(line.substr(0, colon), name)) continue;
        found = true;
        return http::trim_ows(line.substr(colon + 1));
    }
    return {};
}

bool compressor::headers_forbid_compression(std::string_view lines) noexcept {
    // One pass over the handler's header lines (a static file has several): a response already
    // coded, a range of one, one with a validator (a strong ETag names these bytes, RFC 9110
    // §8.8.3) or marked no-transform keeps its body as it is.
    while (!lines.empty()) {
        const auto eol = lines.find("\r\n");
        const std::string_view line = lines.substr(0, eol);
        lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = line.substr(0, colon);
        if (http::iequals(name, "Content-Encoding") || http::iequals(name, "Content-Range") ||
            http::iequals(name, "ETag"))
            return true;
        if (!http::iequals(name, "Cache-Control")) continue;
        const std::string_view value = line.substr(colon + 1);
        for (std::size_t at = 0; at + 12 <= value.size(); ++at)
            if (http::iequals(value.substr(at, 12), "no-transform")) return true;
    }
    return false;
}

bool compressor::try_gzip(std::string_view in, std::string_view& result) {
    result = {};
    if (init_failed_ || in.size() >= UINT_MAX) return false;
    if (!stream_) {
        auto* s = new z_stream_s{};
        // windowBits 15 + 16: a gzip wrapper (RFC 1952) instead of zlib's own (RFC 1950).
        if (int rc = deflateInit2(s, level_, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); rc != Z_OK) {
            FF_LOG_ERROR("deflateInit2(level %d) failed: %d; gzip is off in this worker", level_, rc);
            delete s;
            init_failed_ = true;
            return false;
        }
        stream_.reset(s);
    } else if (deflateReset(stream_.get()) != Z_OK) {
        return false;
    }
    z_stream_s& zs = *stream_;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    out_.clear();
    // Text usually shrinks to a fraction; output that reaches the input's size is not worth
    // sending, which also bounds the buffer: it grows only until it holds the largest body seen.
    const std::size_t limit = in.size();
    out_.reserve(std::min<std::size_t>(limit, std::max<std::size_t>(in.size() / 2, 256)));
    for (;;) {
        const std::size_t space = std::min(out_.capacity(), limit) - out_.size();
        if (space == 0) {
            if (out_.size() >= limit) return false;
            out_.reserve(std::min(limit, out_.capacity() * 2));
            continue;
        }
        zs.next_out = reinterpret_cast<Bytef*>(out_.data() + out_.size());
        zs.avail_out = static_cast<uInt>(space);
        const int rc = deflate(&zs, Z_FINISH);
        out_.commit(space - zs.avail_out);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    }
    if (out_.size() >= in.size()) return false;
    result = out_.view();
    return true;
}

bool compressor::try_gzip_once(std::string_view in, int level, std::string& out) noexcept {
    out.clear();
    if (in.size() >= UINT_MAX) return false;
    z_stream zs{};
    if (deflateInit2(&zs, std::clamp(level, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
    bool ok = false;
    try {
        // deflateBound is the worst case, so one Z_FINISH call completes the member.
        out.resize(deflateBound(&zs, static_cast<uLong>(in.size())));
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        zs.avail_in = static_cast<uInt>(in.size());
        zs.next_out = reinterpret_cast<Bytef*>(out.data());
        zs.avail_out = static_cast<uInt>(out.size());
        if (deflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out < in.size()) {
            out.resize(zs.total_out);
            out.shrink_to_fit();  // a cache keeps it: drop the worst-case reserve
            ok = true;
        }
    } catch (...) {  // bad_alloc: the caller sends the original
    }
    deflateEnd(&zs);
    if (!ok) {
        out.clear();
        out.shrink_to_fit();
    }
    return ok;
}

bool compressor::maybe_compress(const http::request& req, http::response& resp) {
    if (!enabled_) return false;
    const std::string_view body = resp.body();
    // Cheapest tests first: the benchmark routes fail the size test at once.
    if (resp.status() != 200 || body.size() < min_length_ || body.size() == 0) return false;
    if (!is_compressible_type(resp.content_type())) return false;
    if (headers_forbid_compression(resp.extra_headers())) return false;

    // RFC 9110 §12.5.5: the response varies with Accept-Encoding whether or not this client
    // gets the compressed form, so caches must key on it either way.
    resp.add_trusted_header("Vary", "Accept-Encoding");
    if (!accepts_gzip(req.headers.get(http::field::accept_encoding))) return false;
    std::string_view gz;
    if (!try_gzip(body, gz)) return false;
    resp.set_body(gz);
    resp.add_trusted_header("Content-Encoding", "gzip");
    return true;
}

}  // namespace fastfork::handlers
