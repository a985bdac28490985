// SIGTTOU without resets. With net.ipv4.tcp_migrate_req=1 the last close() of a listening socket
// moves what it holds to the rest of its reuseport group: the accept queue at once, request
// sockets (handshakes, and with TCP_DEFER_ACCEPT connections whose request has not arrived)
// when their next packet or timer comes. What it does not move is a connection the kernel is
// completing for that socket on another CPU at the moment close() takes it out of LISTEN: the
// child is created against a listener that was still listening, its queueing finds it closed,
// and the kernel resets it (inet_csk_reqsk_queue_add → inet_child_forget). So the socket of the
// removed worker is first taken out of the steering list (no new SYN reaches it), the worker
// keeps accepting for steer_away_ms while the handshakes already hashed to it complete, and only
// then drains and closes it. Without steering (no bpf(2)) the kernel's hash keeps sending new
// connections to the socket until it closes, so waiting would not help: it closes at once.

#include <csignal>

#include "master/master.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

void master_process::remove_worker() noexcept {
    if (stopping_ || reload_.active || upgrade_.active || worker_count_ <= 1) return;
    finish_scale_down();  // a second SIGTTOU within the interval: the first removal goes now
    unsigned index = --worker_count_;
    segment_.get()->header.workers.store(worker_count_);
    indexes_[index].respawn_at_ms = 0;
    FF_LOG_INFO("SIGTTOU: removing worker %u", index);
    scale_down_ = {true, index, 0};
    const std::uint64_t now = shm::monotonic_ms();
    // The healthy list names indexes below worker_count_ only: from here no new SYN is steered
    // to `index` (the tick would do the same, up to one period later).
    steering_.update(now, procs_, sockets_, worker_count_, cfg_.reuseport_steering);
    if (cfg_.reuseport_steering && steering_.available()) {
        scale_down_.stop_at_ms = now + steer_away_ms;
        return;
    }
    finish_scale_down();
}

void master_process::progress_scale_down(std::uint64_t now) noexcept {
    if (scale_down_.pending && now >= scale_down_.stop_at_ms) finish_scale_down();
}

void master_process::finish_scale_down() noexcept {
    if (!scale_down_.pending) return;
    scale_down_.pending = false;
    for (auto& w : procs_.workers())
        if (w.index == scale_down_.index && !w.stopping) procs_.stop(w, SIGTERM);
    sockets_.close_unused(cfg_.listen, worker_count_);
}

}  // namespace fastfork::master
