#include "master/queue_migration.hpp"

#include <fstream>

#include "worker/log.hpp"

namespace fastfork::master {

std::string queue_migration_warning(const char* path) {
    std::ifstream in(path);
    int value = -1;
    if (!(in >> value))
        return std::string("cannot read ") + path +
               " (Linux before 5.14?): connections queued on a socket that SIGTTOU or a reload to fewer workers "
               "closes are reset";
    if (value != 0) return {};
    return "net.ipv4.tcp_migrate_req is 0: connections queued on a socket that SIGTTOU or a reload to fewer "
           "workers closes are reset instead of moving to another worker; enable it with "
           "`sysctl -w net.ipv4.tcp_migrate_req=1` (per network namespace; see README, \"Scaling down\")";
}

void warn_without_queue_migration() noexcept {
    try {
        if (std::string why = queue_migration_warning(); !why.empty()) FF_LOG_WARN("%s", why.c_str());
    } catch (...) {  // start-up goes on: this is only advice
    }
}

}  // namespace fastfork::master
