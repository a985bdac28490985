#pragma once
// The TLS record layer of one connection (worker): an SSL object over a BIO of our own that
// reads ciphertext from one pooled buffer and writes it to another, so OpenSSL never touches
// the socket. The connection does the socket I/O exactly as for plain connections (one read,
// one write per batch) and passes bytes through here: ciphertext in → plaintext into the
// parser's buffer, responses out → ciphertext into the write. No memory BIO: BIO_s_mem grows
// and frees its own storage, these buffers come from the worker's pool and keep their capacity.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>

#include "http/byte_buffer.hpp"

namespace fastfork::worker {

class tls_transport {
public:
    /// What a step of the record layer needs next.
    enum class status : std::uint8_t {
        ok,         // progress (or nothing to do); call again when more ciphertext arrives
        want_read,  // waiting for ciphertext
        closed,     // the peer sent close_notify
        failed,     // a fatal alert was produced (in cipher_out, to be written) or the peer's
    };

    /// Makes the SSL object for a new server-side connection; false when OpenSSL is out of memory.
    [[nodiscard]] bool open(SSL_CTX* ctx, http::byte_buffer* in, http::byte_buffer* out) noexcept;
    /// Frees the SSL object (the buffers belong to the caller).
    void close() noexcept;

    /// Runs the handshake with the ciphertext in cipher_in(). `ok` once it is complete.
    status handshake() noexcept;
    [[nodiscard]] bool established() const noexcept { return established_; }
    /// Decrypts into [dst, dst+cap); sets `n` to the plaintext bytes produced.
    status read(char* dst, std::size_t cap, std::size_t& n) noexcept;
    /// Encrypts `n` bytes into cipher_out(); false: the connection is broken.
    [[nodiscard]] bool write(const char* src, std::size_t n) noexcept;
    /// Appends a close_notify alert to cipher_out().
    void shutdown() noexcept;

    [[nodiscard]] http::byte_buffer*& cipher_in() noexcept { return in_; }
    [[nodiscard]] http::byte_buffer*& cipher_out() noexcept { return out_; }
    /// Ciphertext bytes of cipher_in() already consumed by OpenSSL.
    [[nodiscard]] std::size_t consumed() const noexcept { return rd_; }
    /// Drops the consumed ciphertext (at most one memmove of a partial record).
    void compact_input() noexcept;

    [[nodiscard]] SSL* native() const noexcept { return ssl_; }
    /// Why the handshake failed, for the stats: OpenSSL's reason text ("wrong version number").
    [[nodiscard]] const char* failure_reason() const noexcept { return failure_; }
    /// The same as OpenSSL's reason code (ERR_GET_REASON; SSL_R_*), 0 when none.
    [[nodiscard]] int failure_code() const noexcept { return failure_code_; }
    /// Whether the kernel does the record layer (SSL_OP_ENABLE_KTLS took effect).
    [[nodiscard]] bool ktls_send() const noexcept;
    [[nodiscard]] bool ktls_recv() const noexcept;

private:
    static int bio_write(BIO* b, const char* data, std::size_t n, std::size_t* written);
    static int bio_read(BIO* b, char* data, std::size_t n, std::size_t* read);
    static long bio_ctrl(BIO* b, int cmd, long num, void* ptr);
    static BIO_METHOD* method() noexcept;
    status classify(int rc) noexcept;

    SSL* ssl_ = nullptr;
    http::byte_buffer* in_ = nullptr;
    http::byte_buffer* out_ = nullptr;
    std::size_t rd_ = 0;
    const char* failure_ = nullptr;
    int failure_code_ = 0;
    bool established_ = false;
};

}  // namespace fastfork::worker
