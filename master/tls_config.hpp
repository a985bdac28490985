#pragma once
// The TLS parts of the configuration (master): listen entries of the form {"address", "tls"}
// beside plain strings, and the top-level "tls" object (ticket keys, session cache).

#include <string>
#include <string_view>

#include "master/config.hpp"

namespace fastfork::master {

/// A reason that names a nested key starts with this mark, the JSON pointer of the offending
/// value inside the setting's value, and the mark again: `\x1e/0/tls/key\x1e key "listen[0]…`.
/// The file reader turns the pointer into a file position; a flag's message drops it.
inline constexpr char pointer_mark = '\x1e';

/// `message` about the value at `pointer` (a JSON pointer inside the setting's value).
[[nodiscard]] std::string at_pointer(const std::string& pointer, const std::string& message);

/// Splits a reason into its pointer (empty if none) and message.
void split_pointer(const std::string& reason, std::string& pointer, std::string& message);

/// Parses a JSON "listen" array (strings and {"address", "tls"} objects) into c.listen and
/// c.listen_tls. Returns a reason (empty on success).
[[nodiscard]] std::string parse_listen_json(config& c, std::string_view json_text);

/// The top-level "tls" object: ticket_key_rotation, ticket_key_files, session_cache.
[[nodiscard]] std::string parse_tls_json(config& c, std::string_view json_text);
[[nodiscard]] std::string show_tls(const config& c);

}  // namespace fastfork::master
