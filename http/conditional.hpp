#pragma once
// Validators and conditional requests (worker, for static files): the strong ETag of a file
// version, entity-tag comparison, and the RFC 9110 §13 preconditions (If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since, If-Range). Pure functions, no I/O.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace fastfork::http {

/// Room for any ETag format_etag writes.
inline constexpr std::size_t max_etag_size = 48;

/// Formats the strong ETag of one file version into `out` (max_etag_size bytes), like nginx:
/// `"<mtime hex>-<size hex>"`, with `-<suffix>` before the closing quote when `suffix` is not
/// empty (a precompressed sibling: "gz", "br"), so each encoding has its own tag. Strong because
/// a file's bytes only change with its size or mtime (the same caveat as nginx: a rewrite of
/// equal size within the same second keeps the tag). Returns the view of `out`.
std::string_view format_etag(std::int64_t mtime, std::uint64_t size, std::string_view suffix, char* out) noexcept;

/// True when the comma-separated list of entity-tags `list` (an If-Match or If-None-Match value)
/// contains "*" or a tag that matches `etag`: with `weak`, by weak comparison (opaque tags equal,
/// W/ ignored; RFC 9110 §8.8.3.2), otherwise by strong comparison (neither weak, equal).
/// Malformed members are skipped.
[[nodiscard]] bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) noexcept;

/// The request's precondition fields (empty view = absent).
struct preconditions {
    std::string_view if_match;
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view if_unmodified_since;
    bool get_or_head = true;  // If-Modified-Since only applies to GET and HEAD
};

enum class precondition_result : std::uint8_t {
    proceed,       // evaluate Range next, then answer 200/206
    not_modified,  // 304
    failed,        // 412
};

/// RFC 9110 §13.2.2 order: If-Match (strong), else If-Unmodified-Since; then If-None-Match (weak;
/// 304 for GET/HEAD, 412 otherwise), else If-Modified-Since (GET/HEAD). An unparsable date is
/// ignored (§13.1.3, §13.1.4). `etag` is the current strong tag, `last_modified` its time.
[[nodiscard]] precondition_result evaluate_preconditions(const preconditions& p,
                                                         std::string_view etag,
                                                         std::time_t last_modified) noexcept;

/// RFC 9110 §13.1.5: whether a Range may be honoured given the If-Range field `if_range` (empty =
/// absent: yes). An entity-tag must equal `etag` by strong comparison, a date must equal
/// `last_modified` exactly; anything else (a weak tag, an unparsable date) means no: send the
/// whole representation.
[[nodiscard]] bool if_range_allows_range(std::string_view if_range,
                                         std::string_view etag,
                                         std::time_t last_modified) noexcept;

}  // namespace fastfork::http
