#include "shm/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace fastfork::shm {

void fold_histogram(latency_histogram& into, latency_histogram& from) noexcept {
    // The master folds only a dead worker's histogram, so it is the single writer of `from`; `into`
    // is shared by the old and the new master during a binary upgrade, hence the atomic add. Not
    // shm::add/set: a fold moves values, it does not record new ones, and it must behave the
    // same whatever FF_NO_STATS says.
    auto fold = [](counter& dst, counter& src) {
        dst.fetch_add(src.load(std::memory_order_relaxed), std::memory_order_relaxed);
        src.store(0, std::memory_order_relaxed);
    };
    for (std::size_t i = 0; i < histogram_buckets; ++i) fold(into.buckets[i], from.buckets[i]);
    fold(into.sum_ns, from.sum_ns);
}

void histogram_values::load(const latency_histogram& h) {
    buckets.resize(histogram_buckets);
    for (std::size_t i = 0; i < histogram_buckets; ++i) buckets[i] = h.buckets[i].load(std::memory_order_relaxed);
    sum_ns = h.sum_ns.load(std::memory_order_relaxed);
}

void histogram_values::merge(const histogram_values& o) noexcept {
    for (std::size_t i = 0; i < histogram_buckets; ++i) buckets[i] += o.buckets[i];
    sum_ns += o.sum_ns;
}

histogram_values histogram_values::minus(const histogram_values& earlier) const {
    histogram_values d;
    for (std::size_t i = 0; i < histogram_buckets; ++i)
        d.buckets[i] = buckets[i] > earlier.buckets[i] ? buckets[i] - earlier.buckets[i] : 0;
    d.sum_ns = sum_ns > earlier.sum_ns ? sum_ns - earlier.sum_ns : 0;
    return d;
}

std::uint64_t histogram_values::count() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t b : buckets) n += b;
    return n;
}

double histogram_values::percentile(double p) const noexcept {
    const std::uint64_t total = count();
    if (total == 0) return 0;
    p = std::clamp(p, 0.0, 100.0);
    // The nearest-rank definition: the smallest value with at least p % of the values at or below it.
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
    rank = std::clamp<std::uint64_t>(rank, 1, total);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < histogram_buckets; ++i) {
        seen += buckets[i];
        if (seen >= rank) return histogram_bucket_mid(i);
    }
    return histogram_bucket_mid(histogram_buckets - 1);
}

}  // namespace fastfork::shm
