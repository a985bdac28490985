#pragma once
// Counted nouns in text people read ("1 worker", "2 workers"): the log lines of master and
// workers, sd_notify's STATUS and the renderers. In shm/ because it is the lowest layer that all
// of them (shm's renderers, worker/, handlers/, master/, tools/) may include.

#include <cstdint>

namespace fastfork::shm {

/// The suffix of a regular English plural for a count of `n`: "" when n is 1, else "s" (0 takes
/// the plural too). For printf: `"%zu open connection%s", n, plural_s(n)`. Never allocates.
[[nodiscard]] constexpr const char* plural_s(std::uint64_t n) noexcept {
    return n == 1 ? "" : "s";
}

}  // namespace fastfork::shm
