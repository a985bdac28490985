#pragma once
// Lossless scale-down (master): when SIGTTOU or a reload closes a worker index's socket, Linux
// (5.14+) moves the connections queued on it to another socket of the reuseport group only
// with net.ipv4.tcp_migrate_req=1; otherwise they are reset. Checked once at start.

#include <string>

namespace fastfork::master {

/// The sysctl's file.
inline constexpr const char* migrate_req_path = "/proc/sys/net/ipv4/tcp_migrate_req";

/// Empty when queued connections migrate (the sysctl reads 1); else the warning to log, saying
/// what to enable, or that the kernel lacks the setting.
[[nodiscard]] std::string queue_migration_warning(const char* path = migrate_req_path);

/// Logs queue_migration_warning() once, when there is one.
void warn_without_queue_migration() noexcept;

}  // namespace fastfork::master
