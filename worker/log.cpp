#include "worker/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>

#include "shm/clock.hpp"

namespace fastfork::worker {
namespace {
log_level g_level = log_level::info;
int g_fd = 2;
char g_tag[32] = "fastfork";
constexpr const char* level_names[] = {"alert", "error", "warn", "info", "debug"};
}  // namespace

void set_log_level(log_level level) noexcept {
    g_level = level;
}
log_level current_log_level() noexcept {
    return g_level;
}

bool try_parse_log_level(std::string_view name, log_level& out) noexcept {
    for (int i = 0; i < static_cast<int>(std::size(level_names)); ++i) {
        if (name == level_names[i]) {
            out = static_cast<log_level>(i);
            return true;
        }
    }
    return false;
}
void set_log_fd(int fd) noexcept {
    g_fd = fd;
}
int log_fd() noexcept {
    return g_fd;
}

bool reopen_log_file(const char* path) noexcept {
    int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    if (g_fd <= 2) {
        // First open: keep stderr as it is and log to a descriptor of our own.
        g_fd = fd;
        return true;
    }
    int rc = ::dup3(fd, g_fd, O_CLOEXEC);
    ::close(fd);
    return rc >= 0;
}

void set_log_tag(const char* tag) noexcept {
    std::snprintf(g_tag, sizeof g_tag, "%s", tag);
}

const char* log_tag() noexcept {
    return g_tag;
}

void log_line(log_level level, const char* fmt, ...) noexcept {
    char line[1024];
    const std::time_t now = shm::realtime_s();
    std::tm tm{};
    gmtime_r(&now, &tm);
    int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02dZ [%s] %s %d: ", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                          level_names[static_cast<int>(level)], g_tag, static_cast<int>(getpid()));
    if (n < 0) return;
    va_list ap;
    va_start(ap, fmt);
    int m = std::vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    std::size_t len = static_cast<std::size_t>(n) + (m < 0 ? 0 : static_cast<std::size_t>(m));
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    // One write per line keeps lines whole when master and workers share the descriptor.
    ssize_t rc = ::write(g_fd, line, len);
    (void)rc;
}

}  // namespace fastfork::worker
