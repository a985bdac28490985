#include "websocket/deflate_stream.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace fastfork::websocket {

namespace {

// RFC 7692 §7.2.2: the receiver appends these four octets to a message's payload before
// inflating; the sender removes them after a sync flush (§7.2.1).
constexpr unsigned char deflate_tail[4] = {0x00, 0x00, 0xff, 0xff};

// Output is produced into the spare capacity of the caller's buffer when there is a useful amount
// of it, so a warmed message buffer is not grown again.
constexpr std::size_t min_room = 1024;
constexpr std::size_t grow_room = 16 * 1024;

}  // namespace

inflater::inflater(const deflate_params& params) noexcept : params_(params) {}

inflater::~inflater() {
    if (zs_) {
        inflateEnd(zs_);
        delete zs_;
    }
}

inflater::status inflater::inflate(std::string_view in,
                                   bool end_of_message,
                                   http::byte_buffer& out,
                                   std::uint64_t max_size) noexcept {
    if (!zs_) {
        zs_ = new (std::nothrow) z_stream{};
        if (!zs_) return status::bad_data;
        // A 32 KiB window decodes whatever window the client compresses with (8..15 bits).
        if (inflateInit2(zs_, -15) != Z_OK) {
            delete zs_;
            zs_ = nullptr;
            return status::bad_data;
        }
    }
    auto run = [&](const unsigned char* p, std::size_t n) -> status {
        zs_->next_in = const_cast<unsigned char*>(p);
        zs_->avail_in = static_cast<uInt>(n);
        for (;;) {
            std::uint64_t limit = max_size > out.size() ? max_size - out.size() : 0;
            // At the limit, a one-byte probe tells whether the message has more to give.
            unsigned char probe;
            bool probing = limit == 0;
            std::size_t room = 1;
            unsigned char* dst = &probe;
            if (!probing) {
                room = out.capacity() - out.size();
                if (room < min_room) room = grow_room;
                room = static_cast<std::size_t>(std::min<std::uint64_t>(room, limit));
                dst = reinterpret_cast<unsigned char*>(out.prepare(room));
            }
            zs_->next_out = dst;
            zs_->avail_out = static_cast<uInt>(room);
            int rc = ::inflate(zs_, Z_SYNC_FLUSH);
            std::size_t produced = room - zs_->avail_out;
            if (probing && produced) return status::too_big;
            if (!probing) out.commit(produced);
            if (rc == Z_STREAM_END) {
                // The peer ended its deflate stream with a final block; what follows (at least
                // the tail we append) starts a fresh stream, as the peer's compressor must too.
                inflateReset(zs_);
            } else if (rc == Z_BUF_ERROR) {
                if (zs_->avail_out != 0) return status::ok;  // needs more input: all consumed
            } else if (rc != Z_OK) {
                return status::bad_data;
            }
            if (zs_->avail_in == 0 && zs_->avail_out != 0) return status::ok;
        }
    };
    status s = run(reinterpret_cast<const unsigned char*>(in.data()), in.size());
    if (s != status::ok || !end_of_message) return s;
    s = run(deflate_tail, sizeof deflate_tail);
    if (s == status::ok && params_.client_no_context_takeover) inflateReset(zs_);
    return s;
}

deflater::deflater(const deflate_params& params) noexcept : params_(params) {}

deflater::~deflater() {
    if (zs_) {
        deflateEnd(zs_);
        delete zs_;
    }
}

void deflater::deflate(std::string_view in, http::byte_buffer& out) {
    if (!zs_) {
        zs_ = new z_stream{};
        int bits = std::clamp<int>(params_.server_max_window_bits, 9, 15);
        if (deflateInit2(zs_, std::clamp(params_.level, 1, 9), Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            delete zs_;
            zs_ = nullptr;
            throw std::bad_alloc();
        }
    }
    std::size_t start = out.size();
    zs_->next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(in.data()));
    zs_->avail_in = static_cast<uInt>(in.size());
    // zlib's rule for flushing: call again while a call filled all of the output space.
    do {
        std::size_t room = std::max<std::size_t>(deflateBound(zs_, zs_->avail_in) + 16, 64);
        zs_->next_out = reinterpret_cast<unsigned char*>(out.prepare(room));
        zs_->avail_out = static_cast<uInt>(room);
        ::deflate(zs_, Z_SYNC_FLUSH);
        out.commit(room - zs_->avail_out);
    } while (zs_->avail_out == 0);

    std::size_t produced = out.size() - start;
    if (produced >= 4 && std::memcmp(out.data() + out.size() - 4, deflate_tail, 4) == 0) {
        out.resize(out.size() - 4);
        // An empty message after a stripped tail would be empty; §7.2.3.6 allows a lone 0x00
        // (an empty non-final stored block once the receiver appends the tail).
        if (out.size() == start) out.append('\0');
    } else if (produced == 0) {
        // zlib emits nothing for an empty sync flush right after another one.
        out.append('\0');
    }
    if (params_.server_no_context_takeover) deflateReset(zs_);
}

}  // namespace fastfork::websocket
