#include "shm/snapshot.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "shm/clock.hpp"
#include "shm/fold.hpp"

using namespace fastfork::shm;

namespace {

// A segment in private memory, initialized the way segment::create does.
std::unique_ptr<segment_layout> make_layout(long master_pid) {
    auto seg = std::make_unique<segment_layout>();
    auto& h = seg->header;
    h.magic = segment_magic;
    h.version = layout_version;
    h.capacity = slot_capacity;
    h.size = sizeof(segment_layout);
    h.master_pid.store(master_pid);
    h.start_time_ms.store(realtime_ms() - 5'000);
    h.generation.store(3);
    h.workers.store(2);
    h.reload_ok.store(-1);
    return seg;
}

void start_worker(segment_layout& seg, std::size_t slot, long pid, unsigned index) {
    auto& ws = seg.slots[slot];
    ws.pid.store(pid);
    ws.state.store(static_cast<std::uint32_t>(worker_state::ready));
    ws.worker_index.store(index);
    ws.generation.store(3);
    ws.heartbeat_ms.store(monotonic_ms());
}

// What master_process::release_slot does.
void retire(segment_layout& seg, std::size_t slot) {
    fold_into_retired(seg, slot);
}

long dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shm_snapshot)

BOOST_AUTO_TEST_CASE(totals_are_retired_plus_live_slots) {
    auto seg = make_layout(::getpid());
    start_worker(*seg, 0, 101, 0);
    start_worker(*seg, 5, 102, 1);
    add(seg->slots[0].counters.requests, 10);
    add(seg->slots[5].counters.requests, 20);
    add(seg->slots[0].counters.connections_active, 3);  // gauge
    add(seg->slots[5].counters.responses_by_class[1], 7);
    add(seg->header.retired.requests, 100);
    seg->slots[0].latency.record(10'000);
    seg->header.retired_latency.record(20'000);

    snapshot s = take_snapshot(*seg, "unit");
    BOOST_TEST(s.instance == "unit");
    BOOST_TEST(!s.stale);
    BOOST_TEST(s.consistent);
    BOOST_TEST(s.generation == 3u);
    BOOST_TEST(s.workers_configured == 2u);
    BOOST_TEST(s.uptime_s() >= 4.9);
    BOOST_TEST_REQUIRE(s.workers.size() == 2u);
    BOOST_TEST(s.workers[0].slot == 0u);
    BOOST_TEST(s.workers[0].pid == 101);
    BOOST_TEST(s.workers[1].slot == 5u);
    BOOST_TEST(s.workers[1].worker_index == 1u);
    BOOST_TEST(to_string(s.workers[1].state) == std::string("ready"));
    BOOST_TEST(s.totals.requests == 130u);
    BOOST_TEST(s.retired.requests == 100u);
    BOOST_TEST(s.totals.connections_active == 3u);
    BOOST_TEST(s.totals.responses_by_class[1] == 7u);
    BOOST_TEST(s.total_latency.count() == 2u);
    BOOST_TEST(s.total_latency.sum_ns == 30'000u);
    BOOST_TEST(s.workers[0].latency.count() == 1u);
}

BOOST_AUTO_TEST_CASE(retiring_a_worker_keeps_totals) {
    auto seg = make_layout(::getpid());
    start_worker(*seg, 0, 101, 0);
    add(seg->slots[0].counters.requests, 42);
    add(seg->slots[0].counters.connections_active, 2);
    seg->slots[0].latency.record(5'000);
    const snapshot before = take_snapshot(*seg, "unit");
    retire(*seg, 0);
    const snapshot after = take_snapshot(*seg, "unit");
    BOOST_TEST(after.workers.empty());
    BOOST_TEST(after.totals.requests == before.totals.requests);
    BOOST_TEST(after.total_latency.count() == before.total_latency.count());
    BOOST_TEST(after.totals.connections_active == 0u);  // a gauge of a dead process is gone
}

BOOST_AUTO_TEST_CASE(heartbeat_age_and_reload_result) {
    auto seg = make_layout(::getpid());
    start_worker(*seg, 0, 101, 0);
    seg->slots[0].heartbeat_ms.store(monotonic_ms() - 1'500);
    auto& h = seg->header;
    h.reload_seq.store(2);
    h.reload_count.store(1);
    h.reload_ok.store(0);
    std::snprintf(h.reload_message, sizeof h.reload_message, "%s", "config.json:1:2: unknown key");
    snapshot s = take_snapshot(*seg, "unit");
    BOOST_TEST(s.workers.at(0).heartbeat_age_ms >= 1'500u);
    BOOST_TEST(s.workers.at(0).heartbeat_age_ms < 3'000u);
    BOOST_TEST(s.last_reload.count == 1u);
    BOOST_TEST(s.last_reload.ok == 0);
    BOOST_TEST(s.last_reload.message == "config.json:1:2: unknown key");
}

BOOST_AUTO_TEST_CASE(a_dead_master_makes_the_snapshot_stale) {
    auto seg = make_layout(dead_pid());
    BOOST_TEST(take_snapshot(*seg, "unit").stale);
    seg->header.master_pid.store(::getpid());
    BOOST_TEST(!take_snapshot(*seg, "unit").stale);
}

BOOST_AUTO_TEST_CASE(seqlock_never_shows_a_fold_twice_or_not_at_all) {
    // A "master" thread folds slot 0 into retired and moves the counts back, over and over,
    // always under fold_seq. Without the sequence lock a reader would catch the counts in both
    // places or in neither; with it every snapshot's total is the same.
    auto seg = make_layout(::getpid());
    constexpr std::uint64_t total = 1'000;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> folds{0};
    start_worker(*seg, 0, 101, 0);
    add(seg->slots[0].counters.requests, total);
    std::thread master([&] {
        auto& h = seg->header;
        auto& ws = seg->slots[0];
        while (!stop.load()) {
            retire(*seg, 0);
            h.fold_seq.fetch_add(1, std::memory_order_acq_rel);  // unfold: a worker starts again with them
            ws.state.store(static_cast<std::uint32_t>(worker_state::ready), std::memory_order_relaxed);
            ws.pid.store(101, std::memory_order_relaxed);
            set(ws.counters.requests, get(h.retired.requests));
            set(h.retired.requests, 0);
            set(seg->retired_by_index[0].counters.requests, 0);
            h.fold_seq.fetch_add(1, std::memory_order_acq_rel);
            folds.fetch_add(1);
            // A real master folds once per worker exit; back-to-back folds would starve readers
            // (a seqlock favours its writer). A pause about as long as a read still makes folds
            // overlap reads often enough to exercise the retry.
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    });
    int reads = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    bool all_equal = true;
    while (std::chrono::steady_clock::now() < deadline || folds.load() < 1000) {
        snapshot s = take_snapshot(*seg, "unit");
        ++reads;
        if (!s.consistent || s.totals.requests != total) {
            all_equal = false;
            BOOST_TEST_MESSAGE("read " << reads << ": consistent " << s.consistent << " total " << s.totals.requests);
            break;
        }
    }
    stop.store(true);
    master.join();
    BOOST_TEST(all_equal);
    BOOST_TEST(folds.load() >= 1000u);
    BOOST_TEST_MESSAGE(reads << " snapshots during " << folds.load() << " folds");
}

BOOST_AUTO_TEST_CASE(a_sequence_stuck_odd_gives_up_and_says_so) {
    auto seg = make_layout(::getpid());
    start_worker(*seg, 0, 101, 0);
    add(seg->slots[0].counters.requests, 5);
    seg->header.fold_seq.store(7);  // a master that died in the middle of a fold
    const auto t0 = std::chrono::steady_clock::now();
    snapshot s = take_snapshot(*seg, "unit");
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_TEST(!s.consistent);
    BOOST_TEST(s.totals.requests == 5u);  // still reads what is there
    BOOST_TEST(took < std::chrono::seconds(2));
}

BOOST_AUTO_TEST_CASE(local_snapshot_has_one_worker) {
    worker_counters c{};
    auto lat = std::make_unique<latency_histogram>();
    add(c.requests, 9);
    lat->record(1'000);
    snapshot s = take_local_snapshot(c, *lat, "single-process");
    BOOST_TEST(s.master_pid == ::getpid());
    BOOST_TEST(!s.stale);
    BOOST_TEST_REQUIRE(s.workers.size() == 1u);
    BOOST_TEST(s.totals.requests == 9u);
    BOOST_TEST(s.total_latency.count() == 1u);
    BOOST_TEST(s.uptime_s() == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
