#pragma once
// Content-coding negotiation (worker): which coding to answer an Accept-Encoding field with, for
// precompressed static siblings (.br, .gz) and dynamic gzip alike (RFC 9110 §12.5.3). No I/O.

#include <cstdint>
#include <string_view>

namespace fastfork::http {

enum class content_coding : std::uint8_t { identity, gzip, br };

/// Picks the coding to send for Accept-Encoding `accept` (RFC 9110 §12.5.3): among the available
/// ones (`have_br`, `have_gzip`), the one with the highest q-value, br on a tie; "*" covers codings
/// not listed; "x-gzip" counts as gzip; q=0 refuses; a member with a malformed weight is ignored.
/// Absent or empty field: identity (we do not assume a client that says nothing decodes anything).
[[nodiscard]] content_coding choose_coding(std::string_view accept, bool have_br, bool have_gzip) noexcept;

/// The Content-Encoding token of `c` ("gzip", "br"; "" for identity).
[[nodiscard]] std::string_view coding_name(content_coding c) noexcept;

}  // namespace fastfork::http
