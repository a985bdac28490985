// The request loop's side of streamed bodies and responses (worker), on the request's fiber:
// the continue decision for a route that reads its body itself, and the end of a response the
// handler streamed (worker/stream_io.cpp holds the streams).

#include <exception>

#include "shm/counters.hpp"
#include "worker/connection.hpp"
#include "worker/exchange.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"

namespace fastfork::worker {

namespace {
// The read buffer a streamed upload gets before its handler runs: each read(2) then moves this
// much, and the upload's memory stays this size whatever the body's length.
constexpr std::size_t streamed_read_space = 64 * 1024;
}  // namespace

bool connection::prepare_streamed_body(const http::request& req, bool& send_continue) noexcept {
    send_continue = false;
    // Grown now, while the head's views may still follow a move (the parser rebases them).
    if (in_->capacity() - in_->size() < streamed_read_space) grow_input(streamed_read_space);
    if (!req.expect_continue || in_->size() != rd_ + ex_->head_size) return true;
    // The hook still decides first; max_body is the handler's to decide (it may raise it), so a
    // length over it is refused by the handler's first read, before any 100 Continue.
    const unsigned verdict = continue_hook_verdict(req);
    if (verdict != 100) {
        answer_error(verdict);
        flush_and_close();
        return false;
    }
    send_continue = req.version_minor == 1;
    return true;
}

connection::next_step connection::finish_stream(const http::request& req, bool handler_ok) noexcept {
    stream_io& s = ex_->stream;
    // A handler that threw after its head went out cannot be answered 500: the body is cut.
    const bool complete = handler_ok && s.finish();
    const unsigned status = ex_->ctx.response().status();
    shm::count_status(srv_->counters(), status);
    record_latency();
    notify_completed(status, s.body_bytes());
    rd_ += ex_->head_size;
    set_pin(input_pin::none);
    if (!handler_ok) shm::add(srv_->counters().handler_exceptions);
    if (!complete) {
        shm::add(srv_->counters().streamed_responses_aborted);
        close_now();
        return next_step::closed;
    }
    if (s.is_body_pending()) {
        flush_and_close();  // the rest of the request body is discarded by the linger
        return next_step::closed;
    }
    if (s.keeps_alive()) return next_step::more;
    return finish_connection(req);
}

}  // namespace fastfork::worker
