#pragma once
// One request/response exchange in progress on a connection (worker): the parser with its
// request view, the body decoder, the handler's request_ctx and the write request. Pooled
// (fasthttp's acquireCtx/releaseCtx): a connection holds one only while a request is in flight,
// so an idle keep-alive connection costs none of this.

#include <uv.h>

#include <cstddef>
#include <cstdint>

#include "http/body_reader.hpp"
#include "http/byte_buffer.hpp"
#include "http/parser.hpp"
#include "http/request_ctx.hpp"
#include "shm/counters.hpp"
#include "worker/idle_stack.hpp"

namespace fastfork::worker {

struct exchange {
    http::parser parser;
    http::body_reader body_reader;
    http::request_ctx ctx;
    http::byte_buffer body;          // decoded body when it could not be decoded in place
    std::size_t head_size = 0;       // bytes of the head in the read buffer
    std::uint64_t head_done_ns = 0;  // loop_clock reading when the head was parsed: latency's start
    std::uint64_t answered_ns = 0;   // when record_latency ran (0: not yet): latency's end
    uv_write_t write_req{};

    /// Ready for the next request; keeps every buffer's capacity.
    void reset() noexcept {
        parser.reset();
        ctx.reset();
        body.clear();
        head_size = 0;
        head_done_ns = 0;
        answered_ns = 0;
    }
};

/// Exchanges for the connections of one worker: LIFO reuse, at most `max_idle_count` and
/// `max_idle_bytes` (sizeof(exchange) plus its body buffer's capacity) kept idle, and idle ones
/// trimmed after `max_idle_ms` (like buffer_pool; see there for the clock).
class exchange_pool {
public:
    exchange_pool(const http::limits& lim,
                  bool normalize_names,
                  shm::counter& hits,
                  shm::counter& misses,
                  const pool_limits& pool = {})
        : limits_(lim), normalize_(normalize_names), pool_(pool), hits_(hits), misses_(misses) {
        free_.reserve(pool_.max_idle_count);  // release() never allocates
    }
    ~exchange_pool() {
        free_.clear([](exchange* e) { delete e; });
    }
    exchange_pool(const exchange_pool&) = delete;
    exchange_pool& operator=(const exchange_pool&) = delete;

    /// A reset exchange; allocates only when the pool is empty (warm-up, or a burst).
    [[nodiscard]] exchange* acquire() {
        if (!free_.empty()) {
            exchange* e = free_.pop();
            pooled_bytes_ -= bytes_of(*e);
            shm::add(hits_);
            return e;
        }
        shm::add(misses_);
        auto* e = new exchange();
        e->parser.set_limits(limits_);
        e->parser.set_normalize_names(normalize_);
        return e;
    }
    /// Resets `e` and keeps it, or frees it when the pool is at a cap. Forced inline: once per
    /// keep-alive request, and as a call its register saves cost about what its caps check does.
    [[gnu::always_inline]] void release(exchange* e) noexcept {
        e->reset();
        // A body decoded out of place (chunked, up to max_body) must not stay pinned to an
        // idle exchange; the common small body keeps its storage.
        if (e->body.capacity() > max_pooled_body) e->body.release_storage();
        std::size_t bytes = bytes_of(*e);
        if (free_.size() >= pool_.max_idle_count || pooled_bytes_ + bytes > pool_.max_idle_bytes) {
            delete e;
            return;
        }
        pooled_bytes_ += bytes;
        free_.push(e, now_ms_);
    }
    /// Frees exchanges idle for `max_idle_ms` and advances the clock (buffer_pool::trim_idle).
    /// Returns the bytes freed, as counted for the cap.
    std::size_t trim_idle(std::uint64_t now_ms) noexcept {
        if (now_ms_ == 0) {
            free_.restamp(now_ms);
            now_ms_ = now_ms;
            return 0;
        }
        now_ms_ = now_ms;
        std::size_t freed = 0;
        free_.trim(now_ms, pool_.max_idle_ms, [&](exchange* e) {
            freed += bytes_of(*e);
            delete e;
        });
        pooled_bytes_ -= freed;
        return freed;
    }

    [[nodiscard]] std::size_t pooled() const noexcept { return free_.size(); }
    [[nodiscard]] std::size_t pooled_bytes() const noexcept { return pooled_bytes_; }

    static constexpr std::size_t max_pooled_body = 64 * 1024;  // larger body storage is freed on release

private:
    static std::size_t bytes_of(const exchange& e) noexcept { return sizeof(exchange) + e.body.capacity(); }

    http::limits limits_;
    bool normalize_;
    pool_limits pool_;
    shm::counter& hits_;
    shm::counter& misses_;
    idle_stack<exchange> free_;
    std::size_t pooled_bytes_ = 0;
    std::uint64_t now_ms_ = 0;  // the latest trim_idle time; 0 = the clock has not started
};

}  // namespace fastfork::worker
