#include "worker/server.hpp"

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <functional>

#include "shm/clock.hpp"
#include "shm/plural.hpp"
#include "worker/connection.hpp"
#include "worker/log.hpp"
#include "worker/loop.hpp"

namespace fastfork::worker {

namespace {
constexpr std::size_t slab_connections = 256;

std::uint64_t ms(millis m) noexcept {
    return static_cast<std::uint64_t>(m.count() < 0 ? 0 : m.count());
}

// TCP_DEFER_ACCEPT: the kernel completes a connection only once its first data arrives, so the
// read right after accept finds the request and no poll registration is needed. One second is
// the shortest deferral (one SYN-ACK retransmission) and covers every client that sends its
// request right after connecting; a longer one would gain only clients silent for longer (a
// browser's preconnect) and hide more connections that the server cannot count, limit or, at
// shutdown, close. Off when the header timeout is shorter: the kernel would hold a silent
// connection past the deadline that must cut it.
int accept_deferral_seconds(millis header_timeout) noexcept {
    return header_timeout >= millis(1000) ? 1 : 0;
}

pool_limits pool_limits_of(const options& o) noexcept {
    return {ms(o.max_idle_worker_duration), o.pool_max_idle_count, o.pool_max_idle_bytes};
}

// malloc_trim(0) walks every free chunk of the heap and madvises its free pages: measured on
// the 2-core machine at 10-15 ms right after a 5,000-connection, 190 MB burst, 0.3-0.7 ms for
// the trims that follow. So it runs only once trims have freed this much, and at most once per
// interval (under 1 % of the loop's time even while a pool decays slowly).
constexpr std::size_t malloc_trim_threshold = 256 * 1024;
constexpr std::uint64_t malloc_trim_interval_ms = 1000;
}  // namespace

server::server(const options& opts, handler h, shm::worker_counters* counters, shm::latency_histogram* latency)
    : opts_(opts),
      handler_(std::move(h)),
      own_counters_(counters ? nullptr : std::make_unique<shm::worker_counters>()),
      counters_(counters ? counters : own_counters_.get()),
      own_latency_(latency ? nullptr : std::make_unique<shm::latency_histogram>()),
      latency_(latency ? latency : own_latency_.get()),
      buffers_(opts.read_buffer_size, counters_->buffer_pool_hits, counters_->buffer_pool_misses, pool_limits_of(opts)),
      exchanges_(opts.limits,
                 opts.normalize_header_names,
                 counters_->ctx_pool_hits,
                 counters_->ctx_pool_misses,
                 pool_limits_of(opts)) {
    waits(wait_kind::header).set_timeout(ms(opts.header_timeout));
    waits(wait_kind::idle).set_timeout(ms(opts.idle_timeout));
    waits(wait_kind::body).set_timeout(ms(opts.read_timeout));
    waits(wait_kind::write).set_timeout(ms(opts.write_timeout));
    waits(wait_kind::linger).set_timeout(ms(opts.linger_timeout));
    // A fresh loop in the process that runs it: a loop inherited through fork shares its epoll
    // instance with the parent (libuv docs/src/loop.rst, uv_loop_fork).
    if (int rc = uv_loop_init(&loop_); rc != 0)
        throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
    fibers_ = std::make_unique<fiber_pool>(&loop_, opts_, *counters_);
    clock_.attach(&loop_);
    uv_timer_init(&loop_, &sweep_timer_);
    sweep_timer_.data = this;
    for (uv_signal_t* s : {&sig_term_, &sig_quit_, &sig_int_, &sig_usr1_}) {
        uv_signal_init(&loop_, s);
        s->data = this;
    }
    free_connections_.reserve(slab_connections);
}

server::~server() {
    // Close every handle still open (connections, listeners, timers, signals), let libuv run
    // the close callbacks, then release the loop. Fibers still suspended in a handler at this
    // point (shutdown deadline) are abandoned with their stacks: the process is exiting.
    fibers_->free_idle();
    // A peer waiting on a request still in flight must see the connection end, as it does for
    // the handles close_loop closes.
    for (connection_slab& slab : connection_slabs_)
        for (std::size_t i = 0; i < slab_connections; ++i) slab.conns[i].close_unregistered_socket();
    close_loop(&loop_);
}

void server::add_listener(int fd) {
    // Set here, not where the socket is made: a reload may change header_timeout for a socket
    // the master keeps, so every worker sets what its own options say (0 turns it off).
    const int seconds = accept_deferral_seconds(opts_.header_timeout);
    if (::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds) != 0) {
        FF_LOG_WARN("setsockopt(listen fd %d, TCP_DEFER_ACCEPT) failed: %s", fd, std::strerror(errno));
        deferral_failed_ = true;
    }
    accept_deferral_ms_ = deferral_failed_ ? 0 : static_cast<std::uint64_t>(seconds) * 1000;
    const std::uint64_t header = ms(opts_.header_timeout);
    waits(wait_kind::header_after_deferral)
        .set_timeout(header > accept_deferral_ms_ ? header - accept_deferral_ms_ : 0);
    listeners_.push_back(std::make_unique<listener>(&loop_, fd, on_accept, this, *counters_));
}

exit_reason server::run(bool ignore_sigint) {
    // Writes to a peer that has gone must fail with EPIPE, not kill the worker.
    std::signal(SIGPIPE, SIG_IGN);
    uv_signal_start(&sig_term_, on_signal, SIGTERM);
    uv_signal_start(&sig_quit_, on_signal, SIGQUIT);
    uv_signal_start(&sig_usr1_, on_signal, SIGUSR1);
    if (ignore_sigint)
        std::signal(SIGINT, SIG_IGN);  // Ctrl-C in a terminal is the master's to handle
    else
        uv_signal_start(&sig_int_, on_signal, SIGINT);

    for (auto& l : listeners_) {
        if (int rc = l->start(); rc != 0) {
            FF_LOG_ERROR("uv_poll_start(listen fd %d) failed: %s", l->fd(), uv_strerror(rc));
            return exit_reason::error;
        }
    }
    // One sweep timer serves every timeout list; its period bounds how late a timeout fires.
    std::uint64_t shortest = std::min(ms(opts_.max_idle_worker_duration), ms(opts_.drain_idle_grace));
    // Not the deferral's list: its timeout is what remains of the header timeout, short by
    // design, and a deadline met to within the period is enough there.
    for (wait_kind k : {wait_kind::header, wait_kind::idle, wait_kind::body, wait_kind::write, wait_kind::linger})
        shortest = std::min(shortest, waits(k).timeout());
    std::uint64_t period = std::clamp<std::uint64_t>(shortest / 4, 10, 250);
    uv_timer_start(&sweep_timer_, on_sweep, period, period);
    current_ = this;
    if (ready_hook_) ready_hook_();
    uv_run(&loop_, UV_RUN_DEFAULT);
    current_ = nullptr;
    for (request_observer* o : observers_) o->on_stop();  // drained, quit or cut by the deadline
    return exit_reason_;
}

void server::on_signal(uv_signal_t* handle, int signum) noexcept {
    auto* self = static_cast<server*>(handle->data);
    FF_ASSERT(self);
    if (signum == SIGUSR1) {
        for (request_observer* o : self->observers_) o->on_reopen();
        if (self->reopen_hook_) self->reopen_hook_();
        return;
    }
    if (signum == SIGQUIT) {
        FF_LOG_INFO("SIGQUIT: stopping now");
        self->quit();
        return;
    }
    if (self->draining_) {
        if (signum == SIGINT) {  // a second Ctrl-C in single-process mode: stop now
            FF_LOG_INFO("second SIGINT: stopping now");
            self->quit();
        }
        return;
    }
    const char* why = signum == SIGTERM ? "SIGTERM" : "SIGINT";
    if (signum == SIGTERM && self->term_reason_hook_) {
        if (const char* reason = self->term_reason_hook_()) why = reason;
    }
    self->drain_because(why);
}

void server::drain_because(const char* why) noexcept {
    if (draining_) return;
    FF_LOG_INFO("%s: draining (%zu open connection%s)", why, open_connections_, shm::plural_s(open_connections_));
    drain(uv_now(&loop_) + shutdown_timeout_ms_);
}

void server::quit() noexcept {
    exit_reason_ = exit_reason::quit;
    stopping_ = true;
    uv_stop(&loop_);
}

// ---------------------------------------------------------------- accepting

void server::on_accept(void* owner, int fd, const sockaddr_storage& peer) noexcept {
    static_cast<server*>(owner)->accept_connection(fd, peer);
}

connection* server::acquire_connection() {
    if (free_connections_.empty()) {
        // The free list holds room for every connection of every slab, so that a close never
        // allocates; reserve before the slab exists, so a bad_alloc leaves nothing half-done.
        std::size_t slots = (connection_slabs_.size() + 1) * slab_connections;
        if (slots > free_connections_.capacity())
            free_connections_.reserve(std::max(slots, 2 * free_connections_.capacity()));
        connection_slab slab{std::make_unique<connection[]>(slab_connections), 0, 0};
        connection* first = slab.conns.get();
        auto at = std::upper_bound(connection_slabs_.begin(), connection_slabs_.end(), first,
                                   [](const connection* p, const connection_slab& s) {
                                       return std::less<const connection*>{}(p, s.conns.get());
                                   });
        connection_slabs_.insert(at, std::move(slab));
        // Reversed, so the slab's connections are handed out in address order.
        for (std::size_t i = slab_connections; i-- > 0;) free_connections_.push_back(first + i);
    }
    connection* c = free_connections_.back();
    free_connections_.pop_back();
    ++slab_of(c).open;
    return c;
}

server::connection_slab& server::slab_of(const connection* c) noexcept {
    // The last slab that starts at or before c: slabs are few (one per 256 connections).
    auto it = std::upper_bound(
        connection_slabs_.begin(), connection_slabs_.end(), c,
        [](const connection* p, const connection_slab& s) { return std::less<const connection*>{}(p, s.conns.get()); });
    FF_ASSERT(it != connection_slabs_.begin());
    return *std::prev(it);
}

void server::accept_connection(int fd, const sockaddr_storage& peer) noexcept {
    if (draining_) {
        ::close(fd);
        return;
    }
    connection* c;
    try {
        c = acquire_connection();
    } catch (const std::bad_alloc&) {
        ::close(fd);
        return;
    }
    ++open_connections_;
    shm::add(counters_->connections_active);
    c->open(*this, fd, next_connection_id_++, peer);

    unsigned refusal = 0;
    if (open_connections_ > opts_.max_connections) {
        shm::add(counters_->connections_refused[static_cast<int>(shm::refusal::max_connections)]);
        refusal = 503;
    } else if (opts_.max_conns_per_ip != 0) {
        auto& n = per_ip_[c->ip_key()];
        if (n >= opts_.max_conns_per_ip) {
            shm::add(counters_->connections_refused[static_cast<int>(shm::refusal::per_ip)]);
            refusal = 429;
        } else {
            ++n;
            c->counted_per_ip = true;
        }
    }
    // Last: either may close the connection and hand it back to the pool.
    if (refusal)
        c->refuse(refusal);
    else
        c->start();
}

void server::on_connection_closed(connection& c) noexcept {
    if (c.counted_per_ip) {
        auto it = per_ip_.find(c.ip_key());
        if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
        c.counted_per_ip = false;
    }
    free_connections_.push_back(&c);  // within the capacity every slab added: no allocation
    connection_slab& slab = slab_of(&c);
    if (--slab.open == 0) slab.free_since_ms = uv_now(&loop_);
    --open_connections_;
    shm::sub(counters_->connections_active);
    maybe_finish_drain();
}

std::string_view server::http_date() noexcept {
    return date_.get(shm::realtime_s());
}

// ---------------------------------------------------------------- timeouts and drain

void server::on_sweep(uv_timer_t* timer) noexcept {
    auto* self = static_cast<server*>(timer->data);
    FF_ASSERT(self);
    self->sweep();
}

void server::sweep() noexcept {
    const std::uint64_t now = uv_now(&loop_);
    for (wait_kind k :
         {wait_kind::header, wait_kind::header_after_deferral, wait_kind::body, wait_kind::write, wait_kind::linger}) {
        while (timeout_hook* h = waits(k).expired(now)) connection::from_hook(h)->on_timeout(k);
    }
    // While draining, an idle keep-alive connection gets only a short grace: long enough that a
    // client which just got a response and is sending its next request is not cut mid-flight.
    timeout_list& idle = waits(wait_kind::idle);
    const std::uint64_t idle_limit = draining_ ? std::min(idle.timeout(), ms(opts_.drain_idle_grace)) : idle.timeout();
    while (timeout_hook* h = idle.older_than(now, idle_limit)) connection::from_hook(h)->on_timeout(wait_kind::idle);
    if (draining_) {
        // Connected but silent: nothing is in flight, so the same grace applies.
        for (wait_kind k : {wait_kind::header, wait_kind::header_after_deferral}) {
            for (timeout_hook* h = waits(k).front(); h;) {
                timeout_hook* next = h->next;
                connection* c = connection::from_hook(h);
                if (c->state() == connection::phase::idle && now - h->since_ms >= ms(opts_.drain_idle_grace))
                    c->close_if_idle();
                h = next;
            }
        }
        if (now >= drain_deadline_ms_) {
            FF_LOG_WARN("shutdown timeout: %zu connection%s still open, stopping", open_connections_,
                        shm::plural_s(open_connections_));
            exit_reason_ = exit_reason::shutdown_timeout;
            stopping_ = true;
            uv_stop(&loop_);
            return;
        }
    }
    fibers_->trim_idle(now);
    trim_pools(now);
    for (request_observer* o : observers_) o->on_tick(now);
    if (tick_hook_) tick_hook_();
}

void server::trim_pools(std::uint64_t now) noexcept {
    trimmed_bytes_ += buffers_.trim_idle(now);
    trimmed_bytes_ += exchanges_.trim_idle(now);
    trimmed_bytes_ += trim_connection_slabs(now);
    if (trimmed_bytes_ < malloc_trim_threshold || now - last_malloc_trim_ms_ < malloc_trim_interval_ms) return;
    trimmed_bytes_ = 0;
    last_malloc_trim_ms_ = now;
    // free() keeps chunks below the mmap threshold (buffers, exchanges, slabs are all below it)
    // in the heap, and the heap shrinks only from its top: without this, RSS stays at the peak.
    std::uint64_t t0 = shm::monotonic_ns();
    ::malloc_trim(0);
    FF_LOG_DEBUG("malloc_trim(0) took %.2f ms", static_cast<double>(shm::monotonic_ns() - t0) / 1e6);
}

std::size_t server::trim_connection_slabs(std::uint64_t now) noexcept {
    const std::uint64_t max_idle = ms(opts_.max_idle_worker_duration);
    auto cold = [&](const connection_slab& s) { return s.open == 0 && now - s.free_since_ms >= max_idle; };
    if (std::none_of(connection_slabs_.begin(), connection_slabs_.end(), cold)) return 0;
    // A cold slab's connections are all in the free list: take them out before the slab goes.
    std::erase_if(free_connections_, [&](connection* c) { return cold(slab_of(c)); });
    std::size_t before = connection_slabs_.size();
    std::erase_if(connection_slabs_, cold);
    std::size_t freed = (before - connection_slabs_.size()) * slab_connections * sizeof(connection);
    std::size_t slots = connection_slabs_.size() * slab_connections;
    if (free_connections_.capacity() > 2 * slots + 2 * slab_connections) {
        // The list grew for the burst; its pointers are memory too (8 B per connection at peak).
        // It keeps room for every slot that remains (see acquire_connection). This may allocate,
        // and may fail: then the larger list simply stays.
        try {
            std::vector<connection*> smaller;
            smaller.reserve(slots);
            smaller.assign(free_connections_.begin(), free_connections_.end());
            free_connections_.swap(smaller);
            freed += smaller.capacity() * sizeof(connection*);
        } catch (const std::bad_alloc&) {
        }
    }
    return freed;
}

void server::drain(std::uint64_t deadline_ms) noexcept {
    if (draining_) return;
    draining_ = true;
    drain_deadline_ms_ = deadline_ms;
    stop_accepting();
    sweep();
    maybe_finish_drain();
}

void server::stop_accepting() noexcept {
    // Under a master the socket stays open there: connections queued on it wait for the slot's
    // next worker. When the master has closed its copy too (shutdown), closing ours makes the
    // kernel refuse new connections instead of queueing them for nobody.
    for (auto& l : listeners_) l->close(on_listener_closed);
}

void server::on_listener_closed(listener* l) noexcept {
    // Only now: closing a polled descriptor before its uv_poll_t is closed races with epoll.
    ::close(l->fd());
}

void server::maybe_finish_drain() noexcept {
    if (draining_ && !stopping_ && open_connections_ == 0) {
        stopping_ = true;
        exit_reason_ = exit_reason::drained;
        uv_stop(&loop_);
    }
}

}  // namespace fastfork::worker
