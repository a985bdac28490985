#pragma once
// The per-message compression of RFC 7692 §7.2 on zlib raw deflate streams: an inflater for
// what the client sends and a deflater for what the server sends, each with or without context
// takeover. Owned by one WebSocket connection in the worker, created only when negotiated.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/byte_buffer.hpp"
#include "websocket/deflate_offer.hpp"

struct z_stream_s;

namespace fastfork::websocket {

/// Decompresses the client's messages. zlib's state (~7 KiB plus a 2^client_max_window_bits
/// window) is allocated on the first message and kept; with client_no_context_takeover it is
/// reset, not freed, between messages, so steady state allocates nothing.
class inflater {
public:
    explicit inflater(const deflate_params& params) noexcept;
    ~inflater();
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    enum class status : std::uint8_t {
        ok,        ///< all of `in` was consumed
        too_big,   ///< the message would exceed `max_size` (send 1009)
        bad_data,  ///< not a valid deflate stream (send 1007)
    };

    /// Inflates the next piece `in` of the current message's compressed payload, appending to
    /// `out`. With `end_of_message`, the RFC 7692 §7.2.2 tail 00 00 ff ff is inflated after `in`
    /// and the message ends (the context is then reset or kept per the parameters). `max_size`
    /// bounds out.size() for the whole message: output stops there and too_big is returned.
    /// After too_big or bad_data the stream must not be used again (the connection is closing).
    [[nodiscard]] status inflate(std::string_view in,
                                 bool end_of_message,
                                 http::byte_buffer& out,
                                 std::uint64_t max_size) noexcept;

private:
    z_stream_s* zs_ = nullptr;
    deflate_params params_;
};

/// Compresses the server's messages (RFC 7692 §7.2.1): a whole message at a time, sync-flushed,
/// with the trailing 00 00 ff ff removed.
class deflater {
public:
    explicit deflater(const deflate_params& params) noexcept;
    ~deflater();
    deflater(const deflater&) = delete;
    deflater& operator=(const deflater&) = delete;

    /// Appends the compressed form of the whole message `in` to `out`.
    void deflate(std::string_view in, http::byte_buffer& out);

private:
    z_stream_s* zs_ = nullptr;
    deflate_params params_;
};

}  // namespace fastfork::websocket
