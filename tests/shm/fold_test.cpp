#include "shm/fold.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <memory>
#include <regex>
#include <string>

#include "shm/render.hpp"
#include "shm/snapshot.hpp"

using namespace fastfork::shm;

namespace {

std::unique_ptr<segment_layout> make_layout() {
    auto seg = std::make_unique<segment_layout>();
    auto& h = seg->header;
    h.magic = segment_magic;
    h.version = layout_version;
    h.capacity = slot_capacity;
    h.size = sizeof(segment_layout);
    h.master_pid.store(::getpid());
    h.reload_ok.store(-1);
    return seg;
}

void start(segment_layout& seg, std::size_t slot, long pid, unsigned index) {
    seg.slots[slot].pid.store(pid);
    seg.slots[slot].state.store(static_cast<std::uint32_t>(worker_state::ready));
    seg.slots[slot].worker_index.store(index);
}

// The value of `series` (a full sample name with labels) in /metrics, or -1 when absent.
long long sample_value(const std::string& text, const std::string& series) {
    const auto at = text.find(series + " ");
    if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return -1;
    return std::stoll(text.substr(at + series.size() + 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_fold)

BOOST_AUTO_TEST_CASE(folds_counters_per_index_and_leaves_gauges_out) {
    auto seg = make_layout();
    start(*seg, 5, 101, 2);
    add(seg->slots[5].counters.requests, 40);
    add(seg->slots[5].counters.responses_by_class[1], 40);
    add(seg->slots[5].counters.connections_active, 3);  // a gauge
    add(seg->slots[5].counters.fibers_live, 2);         // a gauge
    seg->slots[5].latency.record(1'000);
    fold_into_retired(*seg, 5);

    const auto& h = seg->header;
    BOOST_TEST(get(h.retired.requests) == 40u);
    BOOST_TEST(get(h.retired.connections_active) == 0u);
    BOOST_TEST(get(seg->retired_by_index[2].counters.requests) == 40u);
    BOOST_TEST(get(seg->retired_by_index[2].counters.responses_by_class[1]) == 40u);
    BOOST_TEST(get(seg->retired_by_index[2].counters.fibers_live) == 0u);
    BOOST_TEST(get(seg->retired_by_index[1].counters.requests) == 0u);
    BOOST_TEST(h.retired_indexes.load() == 3u);
    BOOST_TEST(h.fold_seq.load() == 2u);
    // The slot is empty and zeroed, gauges included, for its next process.
    BOOST_TEST(seg->slots[5].pid.load() == 0);
    BOOST_TEST(get(seg->slots[5].counters.requests) == 0u);
    BOOST_TEST(get(seg->slots[5].counters.connections_active) == 0u);
    histogram_values retired_latency;
    retired_latency.load(h.retired_latency);
    BOOST_TEST(retired_latency.count() == 1u);

    const snapshot s = take_snapshot(*seg, "unit");
    BOOST_TEST_REQUIRE(s.retired_by_index.size() == 3u);
    BOOST_TEST(s.retired_by_index[2].requests == 40u);
    BOOST_TEST(s.totals.requests == 40u);
}

BOOST_AUTO_TEST_CASE(an_index_beyond_capacity_counts_in_the_totals_only) {
    auto seg = make_layout();
    start(*seg, 0, 101, static_cast<unsigned>(index_capacity));
    add(seg->slots[0].counters.requests, 7);
    fold_into_retired(*seg, 0);
    BOOST_TEST(get(seg->header.retired.requests) == 7u);
    BOOST_TEST(seg->header.retired_indexes.load() == 0u);
}

BOOST_AUTO_TEST_CASE(gauge_table_marks_exactly_the_gauges) {
    std::size_t gauges = 0;
    for (const auto& f : counter_fields()) {
        for (std::size_t i = 0; i < f.length; ++i) BOOST_TEST(is_gauge_cell(f.cell + i) == f.gauge, f.name);
        gauges += f.gauge ? 1 : 0;
    }
    BOOST_TEST(gauges == 6u);  // connections_active, connections_idle, fibers_live, fibers_idle, websockets_open, tls_ktls
    BOOST_TEST(!is_gauge_cell(counter_cells));
}

BOOST_AUTO_TEST_CASE(issue_10_2_worker_series_never_go_down_across_restarts_and_reloads) {
    // Index 0 serves 10 requests, is killed and restarted (serves 5), then reloaded: old and new
    // generation run side by side, then the old one exits. /metrics' worker="0" series must only
    // grow, and no other counter series may appear on the way (a new series starting high is
    // what rate() reads as phantom traffic).
    auto seg = make_layout();
    std::vector<long long> seen;
    std::string first_series;
    auto scrape = [&] {
        const std::string text = render_prometheus(take_snapshot(*seg, "unit"));
        seen.push_back(sample_value(text, "fastfork_requests_total{worker=\"0\"}"));
        std::string names;
        std::smatch m;
        for (auto it = text.cbegin();
             std::regex_search(it, text.cend(), m, std::regex("\nfastfork_requests_total\\{[^}]*\\}"));
             it = m.suffix().first)
            names += m.str();
        if (first_series.empty()) first_series = names;
        BOOST_TEST(names == first_series);
    };
    start(*seg, 0, 101, 0);
    add(seg->slots[0].counters.requests, 10);
    scrape();
    fold_into_retired(*seg, 0);  // kill -9, reaped
    scrape();
    start(*seg, 1, 102, 0);  // restarted
    add(seg->slots[1].counters.requests, 5);
    scrape();
    start(*seg, 2, 103, 0);  // reload: generation 2 beside generation 1
    add(seg->slots[2].counters.requests, 1);
    add(seg->slots[1].counters.requests, 1);
    scrape();
    fold_into_retired(*seg, 1);  // the old generation drained
    scrape();
    fold_into_retired(*seg, 2);  // scale-down: index 0 has no process left
    scrape();
    const std::vector<long long> expected = {10, 10, 15, 17, 17, 17};
    BOOST_TEST(seen == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
