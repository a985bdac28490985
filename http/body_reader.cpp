#include "http/body_reader.hpp"

#include <array>
#include <cstring>

#include "http/rfc9110.hpp"

namespace fastfork::http {

namespace {

// A chunk-size line (size and extensions) longer than this is rejected. RFC 9112 §7.1.1: a server
// ought to limit the total length of chunk extensions and answer 4xx beyond it; clients rarely
// send any.
constexpr std::uint32_t max_chunk_line = 4 * 1024;
// The trailer section is parsed and discarded; its size is bounded like a header section.
constexpr std::uint32_t max_trailer_section = 16 * 1024;

// Positions inside a chunk extension (RFC 9112 §7.1.1):
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val = token / quoted-string
enum ext_state : std::uint8_t {
    ext_before_semi,   // BWS before ";": only whitespace or ";" may follow
    ext_name_start,    // after ";": BWS, then a token
    ext_name,          // inside chunk-ext-name
    ext_after_name,    // BWS after the name: "=" or ";" must follow
    ext_value_start,   // after "=": BWS, then a token or a quoted-string
    ext_token_value,   // inside a token value
    ext_quoted,        // inside a quoted-string
    ext_quoted_pair,   // after a backslash inside a quoted-string
    ext_after_quoted,  // right after the closing quote
};

// Positions inside a trailer field line (RFC 9112 §7.1.2: trailer-section = *( field-line CRLF )).
enum trailer_state : std::uint8_t {
    trailer_start,  // at the start of a line: a name, or CR for the final empty line
    trailer_name,   // inside the field name
    trailer_value,  // after the colon
};
// Stored in sub_ while in phase trailer_lf.
constexpr std::uint8_t trailer_lf_ends_line = 0;
constexpr std::uint8_t trailer_lf_ends_body = 1;

// RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
inline bool is_qdtext(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c != 0x7F);
}
// RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ).
inline bool is_quotable(unsigned char c) noexcept {
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}
// RFC 9110 §5.5: field-content bytes (VCHAR, obs-text, SP, HTAB).
inline bool is_value_byte(unsigned char c) noexcept {
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

}  // namespace

void body_reader::start(const http::request& req, std::uint64_t max_body) noexcept {
    max_body_ = max_body;
    remaining_ = 0;
    total_ = 0;
    err_ = error::none;
    sub_ = 0;
    size_digits_ = 0;
    line_length_ = 0;
    trailer_bytes_ = 0;
    switch (req.framing) {
        case body_framing::none:
            phase_ = phase::done;
            break;
        case body_framing::content_length:
            // The length is known up front: refuse before reading a byte (RFC 9110 §15.5.14).
            if (req.content_length > max_body) {
                phase_ = phase::failed;
                err_ = error::body_too_large;
            } else {
                remaining_ = req.content_length;
                phase_ = remaining_ == 0 ? phase::done : phase::length_body;
            }
            break;
        case body_framing::chunked:
            phase_ = phase::chunk_size;
            break;
    }
}

std::uint64_t body_reader::remaining() const noexcept {
    return phase_ == phase::length_body ? remaining_ : 0;
}

body_reader::result body_reader::fail(http::error e, std::size_t consumed, std::size_t produced) noexcept {
    phase_ = phase::failed;
    err_ = e;
    return result{consumed, produced, state::error, e};
}

body_reader::result body_reader::feed(const char* in, std::size_t size, char* out) noexcept {
    std::size_t i = 0;         // input position
    std::size_t produced = 0;  // output position
    // Body bytes are moved with memmove: `out` may equal `in` or lie before it, and since output
    // never gets ahead of input, in-place decoding only ever moves bytes towards the front.
    auto copy = [&](std::size_t n) noexcept {
        if (out + produced != in + i) std::memmove(out + produced, in + i, n);
        produced += n;
        i += n;
        total_ += n;
        remaining_ -= n;
    };

    while (i < size || phase_ == phase::done || phase_ == phase::failed) {
        switch (phase_) {
            case phase::done:
                return result{i, produced, state::done, error::none};
            case phase::failed:
                // A failure found at start() (Content-Length over the limit) or an earlier feed().
                return result{i, produced, state::error, err_};

            case phase::length_body: {
                std::size_t n = size - i;
                if (n > remaining_) n = static_cast<std::size_t>(remaining_);
                copy(n);
                if (remaining_ == 0) phase_ = phase::done;
                break;
            }

            case phase::chunk_size: {
                // RFC 9112 §7.1: chunk-size = 1*HEXDIG.
                auto c = static_cast<unsigned char>(in[i]);
                std::uint8_t digit = hex_value_table[c];
                if (digit != 0xFF) {
                    if (++line_length_ > max_chunk_line) return fail(error::bad_chunk_size, i, produced);
                    // More than 16 significant hex digits cannot fit in 64 bits; leading zeros
                    // are harmless and only bounded by the line length.
                    if ((remaining_ >> 60) != 0) return fail(error::chunk_size_overflow, i, produced);
                    remaining_ = (remaining_ << 4) | digit;
                    ++size_digits_;
                    ++i;
                    break;
                }
                if (size_digits_ == 0) return fail(error::bad_chunk_size, i, produced);
                if (c != '\r' && c != ';' && !is_ows(c)) return fail(error::bad_chunk_size, i, produced);
                if (remaining_ > max_body_ - total_) return fail(error::body_too_large, i, produced);
                if (c == '\r') {
                    phase_ = phase::chunk_size_lf;
                } else {
                    phase_ = phase::chunk_ext;
                    sub_ = c == ';' ? ext_name_start : ext_before_semi;
                }
                ++line_length_;
                ++i;
                break;
            }

            case phase::chunk_ext: {
                auto c = static_cast<unsigned char>(in[i]);
                if (++line_length_ > max_chunk_line) return fail(error::bad_chunk_extension, i, produced);
                bool ok = true;
                switch (sub_) {
                    case ext_before_semi:
                        if (c == ';')
                            sub_ = ext_name_start;
                        else
                            ok = is_ows(c);
                        break;
                    case ext_name_start:
                        if (is_tchar(c))
                            sub_ = ext_name;
                        else
                            ok = is_ows(c);
                        break;
                    case ext_name:
                    case ext_after_name:
                        if (c == '=')
                            sub_ = ext_value_start;
                        else if (c == ';')
                            sub_ = ext_name_start;
                        else if (is_ows(c))
                            sub_ = ext_after_name;
                        else if (c == '\r' && sub_ == ext_name)
                            phase_ = phase::chunk_size_lf;
                        else
                            ok = sub_ == ext_name && is_tchar(c);
                        break;
                    case ext_value_start:
                        if (c == '"')
                            sub_ = ext_quoted;
                        else if (is_tchar(c))
                            sub_ = ext_token_value;
                        else
                            ok = is_ows(c);
                        break;
                    case ext_token_value:
                    case ext_after_quoted:
                        if (c == ';')
                            sub_ = ext_name_start;
                        else if (is_ows(c))
                            sub_ = ext_before_semi;
                        else if (c == '\r')
                            phase_ = phase::chunk_size_lf;
                        else
                            ok = sub_ == ext_token_value && is_tchar(c);
                        break;
                    case ext_quoted:
                        if (c == '"')
                            sub_ = ext_after_quoted;
                        else if (c == '\\')
                            sub_ = ext_quoted_pair;
                        else
                            ok = is_qdtext(c);
                        break;
                    case ext_quoted_pair:
                        ok = is_quotable(c);
                        sub_ = ext_quoted;
                        break;
                    default:
                        ok = false;
                        break;
                }
                if (!ok) return fail(error::bad_chunk_extension, i, produced);
                ++i;
                break;
            }

            case phase::chunk_size_lf:
                if (in[i] != '\n') return fail(error::bad_chunk_size, i, produced);
                ++i;
                line_length_ = 0;
                size_digits_ = 0;
                if (remaining_ == 0) {
                    // RFC 9112 §7.1: last-chunk = 1*("0") [ chunk-ext ] CRLF, then the trailers.
                    phase_ = phase::trailer_line;
                    sub_ = trailer_start;
                } else {
                    phase_ = phase::chunk_data;
                }
                break;

            case phase::chunk_data: {
                std::size_t n = size - i;
                if (n > remaining_) n = static_cast<std::size_t>(remaining_);
                copy(n);
                if (remaining_ == 0) phase_ = phase::chunk_data_cr;
                break;
            }

            case phase::chunk_data_cr:
                // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF.
                if (in[i] != '\r') return fail(error::bad_chunk_terminator, i, produced);
                ++i;
                phase_ = phase::chunk_data_lf;
                break;

            case phase::chunk_data_lf:
                if (in[i] != '\n') return fail(error::bad_chunk_terminator, i, produced);
                ++i;
                phase_ = phase::chunk_size;
                break;

            case phase::trailer_line: {
                auto c = static_cast<unsigned char>(in[i]);
                if (++trailer_bytes_ > max_trailer_section) return fail(error::bad_trailer, i, produced);
                bool ok = true;
                switch (sub_) {
                    case trailer_start:
                        // An empty line ends the body. A line starting with whitespace is obs-fold
                        // (RFC 9112 §5.2), rejected as in the header section.
                        if (c == '\r') {
                            phase_ = phase::trailer_lf;
                            sub_ = trailer_lf_ends_body;
                        } else if (is_tchar(c)) {
                            sub_ = trailer_name;
                        } else {
                            ok = false;
                        }
                        break;
                    case trailer_name:
                        // RFC 9112 §5.1: no whitespace between the name and the colon.
                        if (c == ':')
                            sub_ = trailer_value;
                        else
                            ok = is_tchar(c);
                        break;
                    case trailer_value:
                        if (c == '\r') {
                            phase_ = phase::trailer_lf;
                            sub_ = trailer_lf_ends_line;
                        } else {
                            ok = is_value_byte(c);
                        }
                        break;
                    default:
                        ok = false;
                        break;
                }
                if (!ok) return fail(error::bad_trailer, i, produced);
                ++i;
                break;
            }

            case phase::trailer_lf:
                if (++trailer_bytes_ > max_trailer_section) return fail(error::bad_trailer, i, produced);
                if (in[i] != '\n') return fail(error::bad_trailer, i, produced);
                ++i;
                if (sub_ == trailer_lf_ends_body) {
                    phase_ = phase::done;
                } else {
                    phase_ = phase::trailer_line;
                    sub_ = trailer_start;
                }
                break;
        }
    }
    return result{i, produced, state::need_more, error::none};
}

}  // namespace fastfork::http
