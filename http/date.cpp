#include "http/date.hpp"

#include <cstdint>
#include <cstring>

namespace fastfork::http {

namespace {

constexpr char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::size_t imf_fixdate_size = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

char* put2(char* p, int v) noexcept {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
    return p + 2;
}

// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based civil calendar
// arithmetic). Used instead of timegm(), which depends on the TZ environment on some libcs and
// is not async-signal-safe; this is pure arithmetic.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
    static constexpr int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` decimal digits; false if any is not a digit.
bool read_digits(const char* p, int n, int& out) noexcept {
    int v = 0;
    for (int i = 0; i < n; ++i) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::string_view format_http_date(std::time_t t, char* out) noexcept {
    std::tm tm{};
    // gmtime_r fails only for times whose year does not fit an int; IMF-fixdate also needs a
    // four-digit year. Either way the epoch is a valid, obviously wrong date rather than garbage.
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        const std::time_t zero = 0;
        gmtime_r(&zero, &tm);
    }
    const int year = tm.tm_year + 1900;
    char* p = out;
    std::memcpy(p, day_names[tm.tm_wday], 3);
    p[3] = ',';
    p[4] = ' ';
    p = put2(p + 5, tm.tm_mday);
    *p++ = ' ';
    std::memcpy(p, month_names[tm.tm_mon], 3);
    p[3] = ' ';
    p = put2(p + 4, year / 100);
    p = put2(p, year % 100);
    *p++ = ' ';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    std::memcpy(p, " GMT", 4);
    p += 4;
    *p = '\0';  // the promised 30th byte, so `out` is also a C string
    return {out, static_cast<std::size_t>(p - out)};
}

std::string_view date_cache::get(std::time_t now) noexcept {
    if (now != cached_) {
        format_http_date(now, text_);
        cached_ = now;
        ++formats_;
    }
    return {text_, imf_fixdate_size};
}

bool parse_http_date(std::string_view s, std::time_t& out) noexcept {
    // RFC 9110 §5.6.7: IMF-fixdate = day-name "," SP day SP month SP year SP hour ":" minute ":" second SP "GMT",
    // fixed length and case-sensitive. The obsolete RFC 850 and asctime forms are not accepted.
    if (s.size() != imf_fixdate_size) return false;
    const char* p = s.data();
    bool day_ok = false;
    for (const auto& name : day_names) day_ok = day_ok || std::memcmp(p, name, 3) == 0;
    if (!day_ok || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' || p[19] != ':' ||
        p[22] != ':' || std::memcmp(p + 25, " GMT", 4) != 0)
        return false;
    int month = 0;
    for (int i = 0; i < 12; ++i)
        if (std::memcmp(p + 8, month_names[i], 3) == 0) month = i + 1;
    int day, year, hour, minute, second;
    if (month == 0 || !read_digits(p + 5, 2, day) || !read_digits(p + 12, 4, year) || !read_digits(p + 17, 2, hour) ||
        !read_digits(p + 20, 2, minute) || !read_digits(p + 23, 2, second))
        return false;
    // The day name is checked for form only, not against the date: a mismatch carries no
    // ambiguity, and rejecting it would only make conditional requests fail.
    // A leap second (60) is allowed by the RFC 5322 grammar IMF-fixdate comes from; it folds
    // into the next minute, which is what POSIX time does anyway.
    if (day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60) return false;
    const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    out = static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
    return true;
}

}  // namespace fastfork::http
