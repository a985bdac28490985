#pragma once
// What `fastfork --check-config` checks beyond the settings themselves (master): the files the
// processes would open, without opening anything new (no file created, no socket bound, so a
// live instance's reuseport group is never joined).

#include <optional>
#include <string>
#include <vector>

#include "master/config.hpp"

namespace fastfork::master {

/// Checks that error_log and access_log can be opened for appending: an existing file is opened
/// (O_APPEND, without O_CREAT) and closed again; a missing one needs a directory this process
/// may create files in (checked with access(2), nothing is created). Static roots and listen
/// addresses are checked by build_config already. nullopt when everything would open; else a
/// message naming the key, the path and errno's text.
[[nodiscard]] std::optional<config_error> check_files(const config& cfg);

/// Loads every TLS certificate and key and every ticket key file as a start would (nginx -t):
/// nullopt when all load, else the first error naming the key, the file and the reason. A
/// certificate outside its validity period is not an error: it adds a line to `warnings`.
[[nodiscard]] std::optional<config_error> check_tls(const config& cfg, std::vector<std::string>& warnings);

}  // namespace fastfork::master
