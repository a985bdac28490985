#pragma once
// The one way this tree reads the clock (issue 9.4). shm/ is the lowest layer that worker/,
// handlers/, master/ and tools/ may all include, and the heartbeat in the segment is written
// by workers and read by the master and fastforkctl, so all of them must agree on its clock.
//
// - monotonic_*: CLOCK_MONOTONIC, for durations, deadlines and heartbeats. Never jumps with
//   settimeofday or NTP steps; the same clock as libuv's uv_hrtime(), std::chrono::steady_clock
//   and systemd's MONOTONIC_USEC on Linux.
// - monotonic_coarse_ms: CLOCK_MONOTONIC_COARSE, the same timeline read at the last timer tick
//   (1–10 ms resolution, never ahead of CLOCK_MONOTONIC). It is a plain memory read in the vDSO
//   even where the clock source falls back to a system call (some VMs' clock sources), so it is
//   what something that runs often and compares against seconds (the heartbeat) should read.
// - realtime_*: CLOCK_REALTIME, wall time, for what people and peers read (start times, Date).
//   realtime_s reads CLOCK_REALTIME_COARSE: whole seconds need no more, and on Linux it is the
//   value time(2) returns (the seconds of the last tick), so Date headers and log stamps that
//   used time(2) keep changing second at the same instant as before.
//
// uv_now() is not this clock's business: it is the loop's cached time, on purpose, so that
// timers and the deadlines compared against them agree within one loop iteration.

#include <time.h>

#include <cstdint>

namespace fastfork::shm {

namespace clock_detail {
inline std::uint64_t read_ns(clockid_t id) noexcept {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
}  // namespace clock_detail

/// CLOCK_MONOTONIC in nanoseconds: latency, rates between two snapshots.
[[nodiscard]] inline std::uint64_t monotonic_ns() noexcept {
    return clock_detail::read_ns(CLOCK_MONOTONIC);
}

/// CLOCK_MONOTONIC in milliseconds: deadlines, process ages.
[[nodiscard]] inline std::uint64_t monotonic_ms() noexcept {
    return monotonic_ns() / 1'000'000u;
}

/// CLOCK_MONOTONIC in microseconds (systemd's MONOTONIC_USEC).
[[nodiscard]] inline std::uint64_t monotonic_us() noexcept {
    return monotonic_ns() / 1'000u;
}

/// CLOCK_MONOTONIC_COARSE in milliseconds: the heartbeat, where a tick's resolution suffices.
[[nodiscard]] inline std::uint64_t monotonic_coarse_ms() noexcept {
    return clock_detail::read_ns(CLOCK_MONOTONIC_COARSE) / 1'000'000u;
}

/// CLOCK_REALTIME in milliseconds since the epoch: start times shown to people.
[[nodiscard]] inline std::uint64_t realtime_ms() noexcept {
    return clock_detail::read_ns(CLOCK_REALTIME) / 1'000'000u;
}

/// Whole seconds since the epoch, as time(2) gives them: Date headers, log timestamps.
[[nodiscard]] inline time_t realtime_s() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return ts.tv_sec;
}

}  // namespace fastfork::shm
