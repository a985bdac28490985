#pragma once
// The request-latency histogram (worker: records into its shm slot; master: folds an exited
// worker's into the totals; fastforkctl and /metrics: percentiles over plain snapshots).
// Log-linear in nanoseconds, 64 linear sub-buckets per power of two: <= 0.78 % error at a midpoint.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "shm/counters.hpp"

namespace fastfork::shm {

/// 2^sub_bucket_bits linear sub-buckets per power of two (HdrHistogram's scheme).
inline constexpr unsigned histogram_sub_bits = 6;
inline constexpr std::uint64_t histogram_sub_count = std::uint64_t{1} << histogram_sub_bits;  // 64
/// Values in [2^max_exponent, ∞) land in the last bucket: 2^36 ns ≈ 68.7 s covers the 60 s target.
inline constexpr unsigned histogram_max_exponent = 36;
/// Buckets 0..63 hold 0..63 ns exactly; then 64 per power of two from 2^6 to 2^35 ns.
inline constexpr std::size_t histogram_buckets =
    histogram_sub_count + (histogram_max_exponent - histogram_sub_bits) * histogram_sub_count;  // 1984

/// The bucket of a value in ns. Bucket i >= 64 covers [m << o, (m + 1) << o) with
/// o = i / 64 - 1 and m = 64 + i % 64, so its width is 1/64..1/128 of its values.
[[nodiscard]] constexpr std::size_t histogram_bucket_of(std::uint64_t ns) noexcept {
    if (ns < histogram_sub_count) return static_cast<std::size_t>(ns);
    const unsigned k = static_cast<unsigned>(std::bit_width(ns)) - 1;  // 2^k <= ns < 2^(k+1), k >= 6
    if (k >= histogram_max_exponent) return histogram_buckets - 1;
    const unsigned shift = k - histogram_sub_bits;
    return static_cast<std::size_t>(shift) * histogram_sub_count + static_cast<std::size_t>(ns >> shift);
}

/// Smallest value (ns) of bucket `i`.
[[nodiscard]] constexpr std::uint64_t histogram_bucket_lower(std::size_t i) noexcept {
    if (i < histogram_sub_count) return i;
    const std::size_t shift = i / histogram_sub_count - 1;
    return (histogram_sub_count + i % histogram_sub_count) << shift;
}

/// Number of integer values (ns) in bucket `i`.
[[nodiscard]] constexpr std::uint64_t histogram_bucket_width(std::size_t i) noexcept {
    return i < histogram_sub_count ? 1 : std::uint64_t{1} << (i / histogram_sub_count - 1);
}

/// The estimate reported for a value in bucket `i`: the middle of its integer values.
[[nodiscard]] constexpr double histogram_bucket_mid(std::size_t i) noexcept {
    return static_cast<double>(histogram_bucket_lower(i)) + static_cast<double>(histogram_bucket_width(i) - 1) / 2.0;
}

/// The histogram in shm: one writer (the slot's worker), relaxed counters, readers never lock.
/// All-zero is empty (ftruncate'd shm is ready to use).
struct latency_histogram {
    counter buckets[histogram_buckets];
    counter sum_ns;  // sum of every recorded value, for Prometheus' _sum

    /// Counts one request that took `ns` nanoseconds. Single writer only.
    void record(std::uint64_t ns) noexcept {
        add(buckets[histogram_bucket_of(ns)]);
        add(sum_ns, ns);
    }
};

/// Adds `from` into `into` and zeroes `from` (the master, when a worker has exited: the same
/// fold as the counters', under the segment's fold_seq).
void fold_histogram(latency_histogram& into, latency_histogram& from) noexcept;

/// A plain copy of a latency_histogram (heap-allocated: 16 KiB, too big for a fiber's stack).
struct histogram_values {
    std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(histogram_buckets, 0);
    std::uint64_t sum_ns = 0;

    /// Copies `h` with relaxed loads (a reader racing the writer sees each cell consistent).
    void load(const latency_histogram& h);
    /// Adds every bucket (and the sum) of `o`.
    void merge(const histogram_values& o) noexcept;
    /// Values recorded since `earlier` (bucket-wise difference, clamped at 0): an interval's
    /// histogram from two snapshots of a monotonic one.
    [[nodiscard]] histogram_values minus(const histogram_values& earlier) const;
    /// Number of recorded values.
    [[nodiscard]] std::uint64_t count() const noexcept;
    /// The value (ns, a bucket midpoint) at or below which `p` percent of the values lie, p in
    /// [0, 100]; 0 when empty. The true value is within ±0.78 % of the estimate above 64 ns.
    [[nodiscard]] double percentile(double p) const noexcept;
};

}  // namespace fastfork::shm
