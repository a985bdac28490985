#pragma once
// The systemd notify protocol (master): datagrams to $NOTIFY_SOCKET. A no-op when the variable
// is unset, so the same binary runs under systemd (Type=notify-reload) and anywhere else.

#include <cstdint>
#include <string_view>

namespace fastfork::master {

class sd_notifier {
public:
    /// Reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID) once.
    sd_notifier();
    ~sd_notifier();
    sd_notifier(const sd_notifier&) = delete;
    sd_notifier& operator=(const sd_notifier&) = delete;

    [[nodiscard]] bool is_enabled() const noexcept { return fd_ >= 0; }
    /// Watchdog interval requested by the service manager, 0 when none.
    [[nodiscard]] std::uint64_t watchdog_usec() const noexcept { return watchdog_usec_; }

    /// Sends `message` ("READY=1", "STATUS=…", several lines allowed); false when it failed.
    bool notify(std::string_view message) noexcept;
    void ready() noexcept { notify("READY=1"); }
    /// RELOADING=1 with MONOTONIC_USEC, as Type=notify-reload requires.
    void reloading() noexcept;
    void stopping() noexcept { notify("STOPPING=1"); }
    void watchdog() noexcept { notify("WATCHDOG=1"); }
    void status(std::string_view line) noexcept;

    /// The socket's descriptor, so a forked worker can close it (-1 when disabled).
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_ = -1;
    std::uint64_t watchdog_usec_ = 0;
    char path_[108] = {};
    unsigned path_len_ = 0;
};

}  // namespace fastfork::master
