#pragma once
// One request/response exchange in progress on a connection (worker): the parser with its
// request view, the body decoder, the handler's request_ctx and the write request. Pooled
// (fasthttp's acquireCtx/releaseCtx): a connection holds one only while a request is in flight,
// so an idle keep-alive connection costs none of this.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "http/body_reader.hpp"
#include "http/byte_buffer.hpp"
#include "http/parser.hpp"
#include "http/request_ctx.hpp"
#include "shm/counters.hpp"

namespace fastfork::worker {

struct exchange {
    http::parser parser;
    http::body_reader body_reader;
    http::request_ctx ctx;
    http::byte_buffer body;          // decoded body when it could not be decoded in place
    std::size_t head_size = 0;       // bytes of the head in the read buffer
    std::uint64_t head_done_ns = 0;  // uv_hrtime() when the head was parsed: latency's start
    uv_write_t write_req{};

    /// Ready for the next request; keeps every buffer's capacity.
    void reset() noexcept {
        parser.reset();
        ctx.reset();
        body.clear();
        head_size = 0;
        head_done_ns = 0;
    }
};

class exchange_pool {
public:
    exchange_pool(const http::limits& lim, bool normalize_names, shm::counter& hits, shm::counter& misses)
        : limits_(lim), normalize_(normalize_names), hits_(hits), misses_(misses) {
        free_.reserve(1024);
    }
    ~exchange_pool() {
        for (auto* e : free_) delete e;
    }
    exchange_pool(const exchange_pool&) = delete;
    exchange_pool& operator=(const exchange_pool&) = delete;

    /// A reset exchange; allocates only when the pool is empty (warm-up, or a burst).
    [[nodiscard]] exchange* acquire() {
        if (!free_.empty()) {
            exchange* e = free_.back();
            free_.pop_back();
            shm::add(hits_);
            return e;
        }
        shm::add(misses_);
        auto* e = new exchange();
        e->parser.set_limits(limits_);
        e->parser.set_normalize_names(normalize_);
        return e;
    }
    void release(exchange* e) noexcept {
        e->reset();
        free_.push_back(e);
    }

private:
    http::limits limits_;
    bool normalize_;
    shm::counter& hits_;
    shm::counter& misses_;
    std::vector<exchange*> free_;
};

}  // namespace fastfork::worker
