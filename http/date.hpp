#pragma once
// The IMF-fixdate for the Date header (RFC 9110 §5.6.7), formatted at most once a second.
// One cache per worker; the worker passes its loop's notion of the current second.

#include <ctime>
#include <string_view>

namespace fastfork::http {

class date_cache {
public:
    /// "Sun, 06 Nov 1994 08:49:37 GMT" for `now` (seconds since the epoch). Reformats only when
    /// `now` differs from the previous call's; the view is valid until the next call that reformats.
    [[nodiscard]] std::string_view get(std::time_t now) noexcept;

    /// Number of times the string was reformatted (lets tests prove the once-a-second rule).
    [[nodiscard]] unsigned long formats() const noexcept { return formats_; }

private:
    std::time_t cached_ = -1;
    unsigned long formats_ = 0;
    char text_[32] = {};
};

/// Formats `t` as an IMF-fixdate into `out` (at least 30 bytes); returns the 29 characters written.
std::string_view format_http_date(std::time_t t, char* out) noexcept;

/// Parses an IMF-fixdate (the only form we generate and the one RFC 9110 requires senders to use);
/// returns false for anything else.
[[nodiscard]] bool parse_http_date(std::string_view s, std::time_t& out) noexcept;

}  // namespace fastfork::http
