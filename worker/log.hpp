#pragma once
// The error log shared by master and workers: one line per event, snprintf-formatted (libstdc++ 12
// has no <format>), written with a single write(2) so lines from several processes never interleave.

#include <cstdarg>
#include <string_view>

namespace fastfork::worker {

enum class log_level : int { alert = 0, error = 1, warn = 2, info = 3, debug = 4 };

/// Lines above this level are dropped (default info).
void set_log_level(log_level level) noexcept;
/// The level named `name` ("alert", "error", "warn", "info", "debug"); false for anything else.
[[nodiscard]] bool try_parse_log_level(std::string_view name, log_level& out) noexcept;
[[nodiscard]] log_level current_log_level() noexcept;
/// Sends the log to `fd` (default 2). The caller keeps ownership of the descriptor.
void set_log_fd(int fd) noexcept;
/// Opens `path` for appending and makes the current log descriptor point at it (dup2 onto the
/// same number, so a descriptor inherited through fork stays valid). Returns false with errno set.
bool reopen_log_file(const char* path) noexcept;
[[nodiscard]] int log_fd() noexcept;

/// Prefix of every line, e.g. "master" or "worker 3"; copied.
void set_log_tag(const char* tag) noexcept;
/// The current tag (NUL-terminated, static storage; readable from a signal handler).
[[nodiscard]] const char* log_tag() noexcept;

/// Formats and writes one line: "<time> [<level>] <tag> <pid>: <message>\n".
void log_line(log_level level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace fastfork::worker

#define FF_LOG_AT(level, ...)                                                                     \
    do {                                                                                          \
        if (static_cast<int>(level) <= static_cast<int>(::fastfork::worker::current_log_level())) \
            ::fastfork::worker::log_line(level, __VA_ARGS__);                                     \
    } while (0)
#define FF_LOG_ALERT(...) FF_LOG_AT(::fastfork::worker::log_level::alert, __VA_ARGS__)
#define FF_LOG_ERROR(...) FF_LOG_AT(::fastfork::worker::log_level::error, __VA_ARGS__)
#define FF_LOG_WARN(...) FF_LOG_AT(::fastfork::worker::log_level::warn, __VA_ARGS__)
#define FF_LOG_INFO(...) FF_LOG_AT(::fastfork::worker::log_level::info, __VA_ARGS__)
#define FF_LOG_DEBUG(...) FF_LOG_AT(::fastfork::worker::log_level::debug, __VA_ARGS__)

/// Always-checked invariant: logs and aborts (never throws: it may run inside a libuv callback).
#define FF_INVARIANT(cond, msg)                                                                                      \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            ::fastfork::worker::log_line(::fastfork::worker::log_level::alert, "invariant failed at %s:%d: %s (%s)", \
                                         __FILE__, __LINE__, #cond, msg);                                            \
            __builtin_trap();                                                                                        \
        }                                                                                                            \
    } while (0)
#ifdef NDEBUG
#define FF_ASSERT(cond) ((void)0)
#else
#define FF_ASSERT(cond) FF_INVARIANT(cond, "assertion")
#endif
