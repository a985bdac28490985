#pragma once
// Human units in the config and on the command line (master): durations like "30s", "250ms",
// "2m", "1h" and sizes like "4MiB", "64KiB", "1GB", "512", and nginx's "512k", "8m", "1g".

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fastfork::master {

/// "250ms", "30s", "2m", "1h", "1.5s"; a bare number means seconds. nullopt when malformed.
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) noexcept;

/// "512", "64KiB"/"64K"/"64KB"/"64k" (×1024), "4MiB"/"4M"/"4MB"/"4m", "1GiB"/"1G"/"1GB"/"1g".
/// nullopt when malformed. (KB/MB/GB and nginx's k/m/g are read as binary units, as nginx does.)
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text) noexcept;

/// The shortest spelling parse_duration reads back to `d`: "30s", "250ms", "2m", "1h".
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

/// The shortest spelling parse_size reads back to `bytes`: "4MiB", "64KiB", "1GiB", "1000".
[[nodiscard]] std::string format_size(std::uint64_t bytes);

}  // namespace fastfork::master
