#pragma once
// Reading the JSON config file (master): every key through the settings table, every error with
// the file:line:column of the offending key or value.

#include <optional>
#include <string>

#include "master/config.hpp"

namespace fastfork::master {

/// Applies the settings of the JSON object in `path` on top of `cfg`. On failure returns a
/// message like `fastfork.json:4:15: key "workers": expected a whole number (got "x")`.
[[nodiscard]] std::optional<config_error> load_config_file(const std::string& path, config& cfg);

/// The same from text already read (`origin` names it in messages); used by tests.
[[nodiscard]] std::optional<config_error> load_config_text(const std::string& text,
                                                           const std::string& origin,
                                                           config& cfg);

}  // namespace fastfork::master
