#pragma once
// The access log of one worker process (worker): one line per answered request, in the Combined
// Log Format or as JSON lines, appended to a per-worker memory buffer and written with one
// write(2) of whole lines to an O_APPEND file, so the lines of several workers never interleave.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "handlers/options.hpp"
#include "http/byte_buffer.hpp"
#include "http/request.hpp"
#include "worker/extension.hpp"

namespace fastfork::handlers {

/// What one line says: the runtime's record of an answered request.
using access_entry = worker::completed_request;

/// The time as each format writes it, for one second.
struct access_time {
    char combined[32] = {};  // "[10/Oct/2000:13:55:36 +0000]" (UTC)
    char iso[24] = {};       // "2000-10-10T13:55:36Z"
    std::size_t combined_size = 0;
    std::size_t iso_size = 0;

    /// Formats `now` (seconds since the epoch) in both forms.
    void set(std::time_t now) noexcept;
};

/// Appends the line for `e` (with its '\n') to `out`. Combined: `remote - - [time] "METHOD
/// target HTTP/1.x" status bytes "referer" "user-agent"`, `"-"` for a missing request line and
/// `-` inside quotes for a missing header; combined_timed appends ` 0.002` (seconds from the
/// parsed head to the serialized response, millisecond resolution; `-` with no request line); '"', '\\' and bytes
/// outside 0x20..0x7e are written as \xHH (as nginx does). JSON: one object with the keys time, remote, method, target,
/// version, status, bytes, referer, user_agent, duration_us, worker, always all of them and in this order; strings are
/// "" when absent; '"', '\\' and bytes outside 0x20..0x7e are escaped
/// (\u00HH), so every line is valid JSON whatever the client sent. Throws only bad_alloc.
void format_access_line(
    log_format format, const access_entry& e, const access_time& t, unsigned worker, http::byte_buffer& out);

/// A worker's access log. Off (every call a no-op) until try_open succeeds; then record()
/// appends to the buffer, which is written out by flush(): when it passes flush_threshold,
/// from the server's sweep (at least twice a second), on reopen() and at the end of run().
/// Single-threaded (the worker's loop and its fibers). As a request observer of the server
/// (worker/extension.hpp) it gets every answered request and those three moments.
class access_logger final : public worker::request_observer {
public:
    static constexpr std::size_t flush_threshold = 64 * 1024;

    access_logger() = default;
    ~access_logger() override;
    access_logger(const access_logger&) = delete;
    access_logger& operator=(const access_logger&) = delete;

    /// Opens `path` (O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644) for lines in `format` tagged with
    /// `worker`. Returns false with errno set when it cannot be opened. Reserves the buffer, so
    /// steady-state lines allocate nothing.
    [[nodiscard]] bool try_open(const std::string& path, log_format format, unsigned worker);

    /// True when lines are being logged: the one branch a request pays when the log is off.
    [[nodiscard]] bool is_enabled() const noexcept { return fd_ >= 0; }

    /// Appends the line for `e` at the current time; flushes past flush_threshold. A line that
    /// does not fit in memory (bad_alloc) is dropped.
    void record(const access_entry& e) noexcept;

    /// Writes every buffered line (one write(2) unless the kernel takes less); on an error the
    /// buffer is dropped and the error logged once per distinct errno in a row.
    void flush() noexcept;
    /// flush() when `now_ms` is at least flush_interval_ms past the previous flush.
    void tick(std::uint64_t now_ms) noexcept;
    static constexpr std::uint64_t flush_interval_ms = 500;

    /// Flushes to the old file, then opens the path again (logrotate renamed it) and switches to
    /// the new descriptor. On failure keeps writing to the old one and logs the error.
    void reopen() noexcept;

    /// Flushes and closes; is_enabled() is false afterwards.
    void close() noexcept;

    [[nodiscard]] std::size_t buffered() const noexcept { return buf_.size(); }

    void on_request_completed(const worker::completed_request& r) noexcept override { record(r); }
    void on_tick(std::uint64_t now_ms) noexcept override { tick(now_ms); }
    void on_reopen() noexcept override { reopen(); }
    void on_stop() noexcept override { flush(); }

private:
    std::string path_;
    int fd_ = -1;
    log_format format_ = log_format::combined;
    unsigned worker_ = 0;
    http::byte_buffer buf_;
    access_time time_;
    std::time_t time_second_ = -1;
    std::uint64_t last_flush_ms_ = 0;
    int last_errno_ = 0;
};

}  // namespace fastfork::handlers
