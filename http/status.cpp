#include "http/status.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace fastfork::http {

namespace {

// RFC 9110 §15 plus the codes registered by other RFCs that servers commonly send: 102 (RFC 2518),
// 103 (RFC 8297), 207/208/226/423/424/507/508 (WebDAV, delta encoding), 425 (RFC 8470),
// 428/429/431/511 (RFC 6585), 451 (RFC 7725) and 510 (RFC 2774). 418 is "(Unused)" in
// RFC 9110 §15.5.19; we keep the traditional phrase because clients that see it expect it.
struct registered_status {
    unsigned code;
    std::string_view phrase;
};

constexpr registered_status registered[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {418, "I'm a teapot"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
};

// Used only at compile time (to build the table), so the linear search costs nothing at run time.
constexpr std::string_view phrase_of(unsigned code) noexcept {
    for (const auto& r : registered)
        if (r.code == code) return r.phrase;
    return "Unknown";
}

constexpr unsigned first_code = 100;
constexpr unsigned code_count = 500;  // 100..599
constexpr std::string_view line_prefix = "HTTP/1.1 ";

// One text per code, packed back to back and built at compile time, as `prefix` "NNN <reason>"
// `suffix`: status_line() and status_body() are lookups with no initialization guard, no
// allocation and no locking, whichever thread calls them first.
constexpr std::size_t table_bytes(std::string_view prefix, std::string_view suffix) noexcept {
    std::size_t n = 0;
    for (unsigned c = 0; c < code_count; ++c) n += prefix.size() + 4 + phrase_of(first_code + c).size() + suffix.size();
    return n;
}

template <std::size_t Bytes>
struct status_table {
    std::array<char, Bytes> text{};
    std::array<std::uint16_t, code_count> offset{};
    std::array<std::uint8_t, code_count> length{};
    static_assert(Bytes <= 0xFFFF, "offsets are 16-bit");

    [[nodiscard]] constexpr std::string_view at(unsigned index) const noexcept {
        return {text.data() + offset[index], length[index]};
    }
};

template <std::size_t Bytes>
constexpr status_table<Bytes> build_table(std::string_view prefix, std::string_view suffix) noexcept {
    status_table<Bytes> t;
    std::size_t at = 0;
    for (unsigned c = 0; c < code_count; ++c) {
        const unsigned code = first_code + c;
        const std::size_t start = at;
        for (char ch : prefix) t.text[at++] = ch;
        t.text[at++] = static_cast<char>('0' + code / 100);
        t.text[at++] = static_cast<char>('0' + code / 10 % 10);
        t.text[at++] = static_cast<char>('0' + code % 10);
        t.text[at++] = ' ';
        for (char ch : phrase_of(code)) t.text[at++] = ch;
        for (char ch : suffix) t.text[at++] = ch;
        t.offset[c] = static_cast<std::uint16_t>(start);
        t.length[c] = static_cast<std::uint8_t>(at - start);
    }
    return t;
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF.
constexpr auto lines = build_table<table_bytes(line_prefix, "\r\n")>(line_prefix, "\r\n");
// The plain-text body of an error the server answers itself: "404 Not Found\n".
constexpr auto bodies = build_table<table_bytes("", "\n")>("", "\n");

// Out of range is a caller bug; answering with the 500 entry keeps the output well-formed.
constexpr unsigned index_of(unsigned code) noexcept {
    return (code >= first_code && code < first_code + code_count) ? code - first_code : 500 - first_code;
}

}  // namespace

std::string_view reason_phrase(unsigned code) noexcept {
    if (code < first_code || code >= first_code + code_count) return "Unknown";
    // The phrase is the body minus "NNN " and the LF.
    const std::string_view body = bodies.at(code - first_code);
    return body.substr(4, body.size() - 5);
}

std::string_view status_line(unsigned code) noexcept {
    return lines.at(index_of(code));
}

std::string_view status_body(unsigned code) noexcept {
    return bodies.at(index_of(code));
}

}  // namespace fastfork::http
