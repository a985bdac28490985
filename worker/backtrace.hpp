#pragma once
// Hung-worker diagnosis (worker): a real signal handler (the one exception to STYLE.md rule 10:
// a stuck handler never returns to the loop, so a uv_signal_t would never run) that writes the
// running fiber's stack and the request it serves to the error log. The master's watchdog
// sends the signal before it kills a worker whose heartbeat stalled.

namespace fastfork::worker {

/// The signal that asks for the report: SIGRTMIN + 3. A real-time signal nothing else sends a
/// worker (SIGUSR2 is an upgrade signal for the master, and `systemctl kill` reaches everyone).
[[nodiscard]] int backtrace_signal() noexcept;

/// Installs the handler in this process (a worker, after fork). It writes, with write(2) only:
/// "<time> [alert] <log tag> <pid>: hung in GET /spin (handler running 31002 ms, connection
/// open 31010 ms); stack of the running fiber:", then backtrace_symbols_fd's frames, then an end
/// line. backtrace() is called once here so that libgcc's unwinder is loaded before a signal.
void install_backtrace_handler() noexcept;

}  // namespace fastfork::worker
