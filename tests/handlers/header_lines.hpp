#pragma once
// Test helper for handler suites: what a response's handler-added header lines say, read the way
// a client reads them (first line of that name, case-insensitive, value trimmed).

#include <optional>
#include <string>
#include <string_view>

#include "http/field.hpp"
#include "http/response.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::test {

/// The value of the first header line `name` the handler added to `r`; nullopt when none.
[[nodiscard]] inline std::optional<std::string> header_value(const http::response& r, std::string_view name) {
    std::string_view lines = r.extra_headers();
    while (!lines.empty()) {
        const auto eol = lines.find("\r\n");
        const std::string_view line = lines.substr(0, eol);
        lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && http::iequals(line.substr(0, colon), name))
            return std::string(http::trim_ows(line.substr(colon + 1)));
    }
    return std::nullopt;
}

}  // namespace fastfork::test
