#pragma once
// A reload in progress (master): the generation being started, its deadline and config, and
// the addresses opened for it, which a rollback closes again (see master/reload.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include "master/config.hpp"

namespace fastfork::master {

struct reload_state {
    bool active = false;
    std::uint64_t generation = 0;   // the generation being started
    std::uint64_t deadline_ms = 0;  // monotonic; not all ready by then: roll back
    config next;
    std::vector<std::string> new_addresses;  // opened for this reload; closed on rollback
};

}  // namespace fastfork::master
