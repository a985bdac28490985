#pragma once
// Counted nouns in log lines (master): "1 worker", "2 workers".

#include <cstddef>
#include <string>
#include <string_view>

namespace fastfork::master {

/// `n` and `noun`, with an "s" unless `n` is 1: count_of(1, "worker") == "1 worker".
[[nodiscard]] inline std::string count_of(std::size_t n, std::string_view noun) {
    std::string out = std::to_string(n);
    out += ' ';
    out += noun;
    if (n != 1) out += 's';
    return out;
}

}  // namespace fastfork::master
