#include "master/units.hpp"

#include <charconv>
#include <cmath>

namespace fastfork::master {

namespace {
// Splits "12.5ms" into 12.5 and "ms"; false when there is no leading number.
bool split_number(std::string_view text, double& value, std::string_view& unit) noexcept {
    std::size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == 0) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
    if (ec != std::errc() || end != text.data() + i || !(value >= 0) || !std::isfinite(value)) return false;
    unit = text.substr(i);
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    return true;
}
}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept {
    double v;
    std::string_view unit;
    if (!split_number(text, v, unit)) return std::nullopt;
    double factor;
    if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "ms")
        factor = 1;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else
        return std::nullopt;
    double ms = v * factor;
    if (ms > 1e15) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) noexcept {
    double v;
    std::string_view unit;
    if (!split_number(text, v, unit)) return std::nullopt;
    double factor;
    if (unit.empty() || unit == "B") factor = 1;
    // nginx writes sizes as "512k", "8m", "1g"; both cases and the IEC spellings are accepted.
    else if (unit == "K" || unit == "KB" || unit == "KiB" || unit == "k" || unit == "kb" || unit == "kB")
        factor = 1024.0;
    else if (unit == "M" || unit == "MB" || unit == "MiB" || unit == "m" || unit == "mb")
        factor = 1024.0 * 1024;
    else if (unit == "G" || unit == "GB" || unit == "GiB" || unit == "g" || unit == "gb")
        factor = 1024.0 * 1024 * 1024;
    else
        return std::nullopt;
    double bytes = v * factor;
    if (bytes > 1e18 || bytes != std::floor(bytes)) return std::nullopt;
    return static_cast<std::uint64_t>(bytes);
}

std::string format_duration(std::chrono::milliseconds d) {
    const auto ms = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    // Minutes only when they read better than seconds: "2m", but "30s" and "75s" stay.
    if (ms != 0 && ms % 60'000 == 0 && ms >= 120'000) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
    if (bytes != 0 && bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
    if (bytes != 0 && bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
    if (bytes != 0 && bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
    return std::to_string(bytes);
}

}  // namespace fastfork::master
