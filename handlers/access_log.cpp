#include "handlers/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "http/rfc9110.hpp"
#include "shm/clock.hpp"
#include "shm/plural.hpp"
#include "worker/log.hpp"

namespace fastfork::handlers {

namespace {

constexpr const char* month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool needs_escape(unsigned char c) noexcept {
    return c == '"' || c == '\\' || c < 0x20 || c > 0x7e;
}

// Client-supplied text goes into a line that a parser splits on quotes and newlines: escape what
// could break it. Most values need nothing, so they are copied in one piece.
void append_escaped(http::byte_buffer& out, std::string_view s, log_format f) {
    std::size_t clean = 0;
    while (clean < s.size() && !needs_escape(static_cast<unsigned char>(s[clean]))) ++clean;
    out.append(s.substr(0, clean));
    for (std::size_t i = clean; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (!needs_escape(c)) {
            out.append(static_cast<char>(c));
            continue;
        }
        if (f == log_format::json) {
            if (c == '"' || c == '\\') {
                char esc[2] = {'\\', static_cast<char>(c)};
                out.append(std::string_view(esc, 2));
            } else {
                // Bytes above 0x7e too: a line must stay valid JSON (and UTF-8) whatever arrived.
                char esc[6] = {'\\', 'u', '0', '0', http::hex_digits_lower[c >> 4], http::hex_digits_lower[c & 15]};
                out.append(std::string_view(esc, 6));
            }
        } else {
            char esc[4] = {'\\', 'x', http::hex_digits_lower[c >> 4], http::hex_digits_lower[c & 15]};
            out.append(std::string_view(esc, 4));
        }
    }
}

// A combined-format field in quotes: "-" when absent, as Apache and nginx write it.
void append_quoted_or_dash(http::byte_buffer& out, std::string_view s) {
    out.append('"');
    if (s.empty())
        out.append('-');
    else
        append_escaped(out, s, log_format::combined);
    out.append('"');
}

void append_json_string(http::byte_buffer& out, std::string_view key, std::string_view value, bool first = false) {
    out.append(first ? std::string_view("{\"") : std::string_view(",\""));
    out.append(key);
    out.append(std::string_view("\":\""));
    append_escaped(out, value, log_format::json);
    out.append('"');
}

void append_json_number(http::byte_buffer& out, std::string_view key, std::uint64_t value) {
    out.append(std::string_view(",\""));
    out.append(key);
    out.append(std::string_view("\":"));
    out.append_decimal(value);
}

}  // namespace

void access_time::set(std::time_t now) noexcept {
    std::tm tm{};
    gmtime_r(&now, &tm);
    int n = std::snprintf(combined, sizeof combined, "[%02d/%s/%04d:%02d:%02d:%02d +0000]", tm.tm_mday,
                          month_names[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    combined_size = n > 0 ? static_cast<std::size_t>(n) : 0;
    n = std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
    iso_size = n > 0 ? static_cast<std::size_t>(n) : 0;
}

void format_access_line(
    log_format format, const access_entry& e, const access_time& t, unsigned worker, http::byte_buffer& out) {
    const http::request* r = e.request;
    const std::string_view referer = r ? r->headers.get(http::field::referer) : std::string_view();
    const std::string_view agent = r ? r->headers.get(http::field::user_agent) : std::string_view();
    const std::string_view version = !r ? std::string_view() : r->version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
    if (format == log_format::json) {
        append_json_string(out, "time", {t.iso, t.iso_size}, /*first=*/true);
        append_json_string(out, "remote", e.remote);
        append_json_string(out, "method", r ? r->method_name : std::string_view());
        append_json_string(out, "target", r ? r->target : std::string_view());
        append_json_string(out, "version", version);
        append_json_number(out, "status", e.status);
        append_json_number(out, "bytes", e.bytes);
        append_json_string(out, "referer", referer);
        append_json_string(out, "user_agent", agent);
        append_json_number(out, "duration_us", e.duration_us);
        append_json_number(out, "worker", worker);
        out.append(std::string_view("}\n"));
        return;
    }
    if (e.remote.empty())
        out.append('-');
    else
        append_escaped(out, e.remote, log_format::combined);
    out.append(std::string_view(" - - "));
    out.append(std::string_view(t.combined, t.combined_size));
    out.append(' ');
    if (r) {
        out.append('"');
        append_escaped(out, r->method_name, log_format::combined);
        out.append(' ');
        append_escaped(out, r->target, log_format::combined);
        out.append(' ');
        out.append(version);
        out.append('"');
    } else {
        out.append(std::string_view("\"-\""));
    }
    out.append(' ');
    out.append_decimal(e.status);
    out.append(' ');
    out.append_decimal(e.bytes);
    out.append(' ');
    append_quoted_or_dash(out, referer);
    out.append(' ');
    append_quoted_or_dash(out, agent);
    if (format == log_format::combined_timed) {
        // nginx's $request_time: seconds with millisecond resolution ("0.002").
        out.append(' ');
        if (!r) {
            out.append('-');
        } else {
            const std::uint64_t ms = e.duration_us / 1000;
            out.append_decimal(ms / 1000);
            out.append('.');
            const unsigned frac = static_cast<unsigned>(ms % 1000);
            out.append(static_cast<char>('0' + frac / 100));
            out.append(static_cast<char>('0' + frac / 10 % 10));
            out.append(static_cast<char>('0' + frac % 10));
        }
    }
    out.append('\n');
}

// ---------------------------------------------------------------- access_logger

access_logger::~access_logger() {
    close();
}

bool access_logger::try_open(const std::string& path, log_format format, unsigned worker) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    close();
    path_ = path;
    fd_ = fd;
    format_ = format;
    worker_ = worker;
    // Room for a full flush threshold plus a few long lines: steady state never grows it.
    buf_.reserve(2 * flush_threshold);
    return true;
}

void access_logger::record(const access_entry& e) noexcept {
    if (fd_ < 0) return;
    const std::time_t now = shm::realtime_s();
    if (now != time_second_) {
        time_.set(now);
        time_second_ = now;
    }
    const std::size_t before = buf_.size();
    try {
        format_access_line(format_, e, time_, worker_, buf_);
    } catch (const std::bad_alloc&) {
        buf_.resize(before);  // shrinking never allocates: drop the partial line
        return;
    }
    if (buf_.size() >= flush_threshold) flush();
}

void access_logger::flush() noexcept {
    if (fd_ < 0 || buf_.empty()) return;
    // O_APPEND makes each write(2) land at the end of the file atomically with respect to the
    // other workers' writes, and the buffer holds whole lines only: lines never interleave.
    // A regular file takes the whole buffer in one call unless the disk is full or a signal
    // interrupts it; the loop only covers those cases.
    std::size_t done = 0;
    while (done < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            if (err != last_errno_)
                FF_LOG_ERROR("write(access_log %s, %zu byte%s) failed: %s", path_.c_str(), buf_.size() - done,
                             shm::plural_s(buf_.size() - done), std::strerror(err));
            last_errno_ = err;
            buf_.clear();
            return;
        }
        done += static_cast<std::size_t>(n);
    }
    last_errno_ = 0;
    buf_.clear();
}

void access_logger::tick(std::uint64_t now_ms) noexcept {
    if (now_ms - last_flush_ms_ < flush_interval_ms) return;
    last_flush_ms_ = now_ms;
    flush();
}

void access_logger::reopen() noexcept {
    if (fd_ < 0) return;
    // The buffered lines were logged before the signal: they belong to the old (renamed) file.
    flush();
    int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        FF_LOG_ERROR("open(access_log %s) failed: %s; still writing to the old file", path_.c_str(),
                     std::strerror(errno));
        return;
    }
    ::close(fd_);
    fd_ = fd;
}

void access_logger::close() noexcept {
    if (fd_ < 0) return;
    flush();
    ::close(fd_);
    fd_ = -1;
}

}  // namespace fastfork::handlers
