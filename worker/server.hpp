#pragma once
// One worker process's HTTP server (worker): a fresh libuv loop, its listeners, the fiber pool,
// the pools, the timeout sweep, signals and graceful drain. Knows nothing of fork: the master
// (or `fastfork --single-process`) constructs it in the process that will run it.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "http/date.hpp"
#include "http/request_ctx.hpp"
#include "shm/counters.hpp"
#include "shm/histogram.hpp"
#include "worker/buffer_pool.hpp"
#include "worker/exchange.hpp"
#include "worker/extension.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/listener.hpp"
#include "worker/loop_clock.hpp"
#include "worker/options.hpp"
#include "worker/timeout_list.hpp"
#include "worker/wait_kind.hpp"

namespace fastfork::worker {

class connection;

/// The handler every request goes to. Runs on a fiber; may call ctx.sleep / ctx.run_blocking.
/// An exception it throws is logged and answered with 500, and the connection is closed.
using handler = std::function<void(http::request_ctx&)>;

/// Decides on `Expect: 100-continue` before the body is read: return 100 to let the client
/// send it, or a final status (417, 413, 401…) to refuse it.
using continue_hook = std::function<unsigned(const http::request&)>;

/// Why run() returned.
enum class exit_reason : std::uint8_t { drained, shutdown_timeout, quit, error };

class server {
public:
    /// `counters` and `latency` are the stats slot this worker writes (in shm under a master);
    /// nullptr = a private one (`fastfork --single-process`). Throws std::runtime_error when the
    /// loop cannot be created (the worker cannot start).
    server(const options& opts,
           handler h,
           shm::worker_counters* counters = nullptr,
           shm::latency_histogram* latency = nullptr);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Serves on a listening fd (non-blocking); the server closes this descriptor when it stops
    /// accepting. Under a master that is only this process's copy: the master's keeps the socket
    /// (and its queue) alive for the next worker of the slot.
    void add_listener(int fd);
    void set_continue_hook(continue_hook hook) { continue_hook_ = std::move(hook); }

    /// Appends a filter to the chain every handler response passes before it is serialized, and
    /// an observer of answered requests (worker/extension.hpp). Not owned: each must outlive
    /// run(). Add them before run().
    void add_response_filter(response_filter& f) { filters_.push_back(&f); }
    void add_request_observer(request_observer& o) { observers_.push_back(&o); }

    /// Runs the loop until drained (SIGTERM, or drain()), quit (SIGQUIT) or the shutdown deadline.
    /// Installs SIGTERM/SIGQUIT handlers (and SIGINT unless `ignore_sigint`) as uv_signal_t.
    exit_reason run(bool ignore_sigint = false);

    /// Graceful drain: stop accepting, answer what is in flight with Connection: close, close idle
    /// connections after the grace, and return from run() when none is left or at `deadline_ms`.
    void drain(std::uint64_t deadline_ms) noexcept;
    /// drain() with the shutdown timeout, logged as "<why>: draining (N open connections)".
    /// Does nothing when already draining. `why` is copied into the line only.
    void drain_because(const char* why) noexcept;
    /// Stops at once; in-flight requests are dropped.
    void quit() noexcept;

    /// Called from the sweep timer (about 4 times a second): heartbeat hook for the master.
    /// Observers get their own on_tick.
    void set_tick_hook(std::function<void()> hook) { tick_hook_ = std::move(hook); }
    /// Called once run() is accepting on every listener.
    void set_ready_hook(std::function<void()> hook) { ready_hook_ = std::move(hook); }
    /// Called on SIGUSR1 (reopen log files), after every observer's on_reopen.
    void set_reopen_hook(std::function<void()> hook) { reopen_hook_ = std::move(hook); }
    /// Called when SIGTERM arrives: says why it came for the drain's log line (a worker learns
    /// of its master's death by a SIGTERM too, PR_SET_PDEATHSIG), or nullptr for "SIGTERM".
    /// The returned string must stay valid (a literal).
    void set_term_reason_hook(std::function<const char*()> hook) { term_reason_hook_ = std::move(hook); }

    /// The server whose run() is active in this process (one per worker process), or nullptr.
    [[nodiscard]] static server* current() noexcept { return current_; }

    [[nodiscard]] uv_loop_t* loop() noexcept { return &loop_; }
    [[nodiscard]] const options& opts() const noexcept { return opts_; }
    [[nodiscard]] shm::worker_counters& counters() noexcept { return *counters_; }
    [[nodiscard]] const shm::worker_counters& counters() const noexcept { return *counters_; }
    [[nodiscard]] const shm::latency_histogram& latency() const noexcept { return *latency_; }
    [[nodiscard]] std::size_t open_connections() const noexcept { return open_connections_; }
    [[nodiscard]] const fiber_pool& fibers() const noexcept { return *fibers_; }
    [[nodiscard]] bool is_draining() const noexcept { return draining_; }
    /// How long the kernel holds a new connection back until its first byte (TCP_DEFER_ACCEPT
    /// on every listener), 0 when it does not: a connection accepted with nothing to read has
    /// been silent that long already.
    [[nodiscard]] std::uint64_t accept_deferral_ms() const noexcept { return accept_deferral_ms_; }

    // ---- the connection's side of the server (worker/connection.cpp, worker/request_loop.cpp) ----

    [[nodiscard]] fiber_pool& fibers() noexcept { return *fibers_; }
    [[nodiscard]] buffer_pool& buffers() noexcept { return buffers_; }
    [[nodiscard]] exchange_pool& exchanges() noexcept { return exchanges_; }
    [[nodiscard]] shm::latency_histogram& latency() noexcept { return *latency_; }
    /// The latency clock: one reading per answered request, one per loop iteration at most.
    [[nodiscard]] loop_clock& clock() noexcept { return clock_; }
    /// The Date header's value, recomputed at most once a second.
    [[nodiscard]] std::string_view http_date() noexcept;
    /// Moves `c` (a connection) to the back of the timeout list of `kind`, stamped with the
    /// loop's time. Inline: it runs twice per keep-alive request (bench/instructions.sh).
    void start_wait(timeout_hook& c, wait_kind kind) noexcept { waits(kind).push_back(c, uv_now(&loop_)); }
    /// Whether `c` (a connection) waits in the list of `kind`.
    [[nodiscard]] bool is_waiting(const timeout_hook& c, wait_kind kind) const noexcept {
        return c.list == &waits_[static_cast<unsigned>(kind)];
    }
    /// Runs the user's handler (may suspend; may throw: the caller catches).
    void run_handler(http::request_ctx& ctx) { handler_(ctx); }
    /// The verdict on `Expect: 100-continue` (100, or a final status) from the continue hook.
    [[nodiscard]] unsigned continue_verdict(const http::request& req) {
        return continue_hook_ ? continue_hook_(req) : 100;
    }
    /// Passes a handler's response through the filter chain (may throw bad_alloc).
    void filter_response(const http::request& req, http::response& resp) {
        for (response_filter* f : filters_) f->filter(req, resp);
    }
    /// True when someone observes answered requests: the connection then measures and describes them.
    [[nodiscard]] bool has_observers() const noexcept { return !observers_.empty(); }
    void notify_completed(const completed_request& r) noexcept {
        for (request_observer* o : observers_) o->on_request_completed(r);
    }
    /// The connection's memory goes back to the server: called from its close callback, last.
    void on_connection_closed(connection& c) noexcept;

    /// Shutdown deadline used when SIGTERM arrives (ms).
    void set_shutdown_timeout(std::uint64_t ms) noexcept { shutdown_timeout_ms_ = ms; }

private:
    static void on_accept(void* owner, int fd, const sockaddr_storage& peer) noexcept;
    static void on_sweep(uv_timer_t* timer) noexcept;
    static void on_signal(uv_signal_t* handle, int signum) noexcept;
    static void on_listener_closed(listener* l) noexcept;

    void accept_connection(int fd, const sockaddr_storage& peer) noexcept;
    void sweep() noexcept;
    void stop_accepting() noexcept;
    void maybe_finish_drain() noexcept;
    connection* acquire_connection();
    /// Frees connection slabs that have been wholly free for max_idle_worker_duration; returns
    /// the bytes freed.
    std::size_t trim_connection_slabs(std::uint64_t now) noexcept;
    /// Trims every pool, then hands freed memory back to the kernel (malloc_trim) once enough
    /// has been freed to be worth it.
    void trim_pools(std::uint64_t now) noexcept;
    [[nodiscard]] timeout_list& waits(wait_kind k) noexcept { return waits_[static_cast<unsigned>(k)]; }

    options opts_;
    handler handler_;
    continue_hook continue_hook_;
    std::vector<response_filter*> filters_;
    std::vector<request_observer*> observers_;
    std::function<void()> tick_hook_;
    std::function<void()> ready_hook_;
    std::function<void()> reopen_hook_;
    std::function<const char*()> term_reason_hook_;
    uv_loop_t loop_{};
    std::unique_ptr<shm::worker_counters> own_counters_;
    shm::worker_counters* counters_;
    std::unique_ptr<shm::latency_histogram> own_latency_;
    shm::latency_histogram* latency_;
    std::unique_ptr<fiber_pool> fibers_;
    buffer_pool buffers_;
    exchange_pool exchanges_;
    http::date_cache date_;
    loop_clock clock_;
    std::vector<std::unique_ptr<listener>> listeners_;
    uv_timer_t sweep_timer_{};
    uv_signal_t sig_term_{}, sig_quit_{}, sig_int_{}, sig_usr1_{};

    // Connections, by what they wait for (each list has one timeout; see timeout_list.hpp),
    // indexed by wait_kind.
    timeout_list waits_[wait_kinds];
    /// 256 connections in one allocation: an idle connection costs sizeof(connection), not a
    /// malloc chunk each. A slab is freed whole, once none of its connections is open.
    struct connection_slab {
        std::unique_ptr<connection[]> conns;
        std::uint32_t open = 0;           // connections of this slab acquired and not yet closed
        std::uint64_t free_since_ms = 0;  // loop time when `open` last dropped to 0
    };
    [[nodiscard]] connection_slab& slab_of(const connection* c) noexcept;
    std::vector<connection*> free_connections_;                // LIFO: back is the most recently closed
    std::vector<connection_slab> connection_slabs_;            // sorted by address, for slab_of
    std::size_t trimmed_bytes_ = 0;                            // freed by trims since the last malloc_trim
    std::uint64_t last_malloc_trim_ms_ = 0;                    // loop time of the last malloc_trim
    std::unordered_map<std::uint64_t, std::uint32_t> per_ip_;  // only with max_conns_per_ip
    std::uint64_t next_connection_id_ = 1;
    std::size_t open_connections_ = 0;

    bool draining_ = false;
    bool stopping_ = false;
    exit_reason exit_reason_ = exit_reason::drained;
    std::uint64_t drain_deadline_ms_ = 0;
    std::uint64_t shutdown_timeout_ms_ = 30'000;
    std::uint64_t accept_deferral_ms_ = 0;
    bool deferral_failed_ = false;  // a listener refused TCP_DEFER_ACCEPT: no deferral assumed
    static inline server* current_ = nullptr;
};

}  // namespace fastfork::worker
