// The TLS side of a connection (worker): the handshake on the loop, ciphertext read → plaintext
// into the same read buffer and parser as a plain connection, responses sealed into ciphertext
// just before the same single write per batch, file bodies read and encrypted in user space,
// close_notify before the half-close. connection.cpp calls these at its read, write and close
// points only when the connection came from a TLS listener (tls_ set).

#include <openssl/ssl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <new>
#include <utility>

#include "http/response.hpp"
#include "worker/connection.hpp"
#include "worker/fiber_pool.hpp"
#include "worker/log.hpp"
#include "worker/server.hpp"
#include "worker/tls_transport.hpp"

namespace fastfork::worker {

namespace {
constexpr std::size_t min_cipher_space = 2048;
// nginx's answer to plain HTTP on an HTTPS port (its 497 case, sent as 400).
constexpr std::string_view plain_http_body = "The plain HTTP request was sent to HTTPS port\n";
// File bodies over TLS without kTLS: read and sealed this much at a time (four full records).
constexpr std::size_t file_chunk = 64 * 1024;

// A first byte that begins a method (every registered method starts with an upper-case
// letter); a TLS record begins with its content type, 0x16 for a handshake.
bool looks_like_plain_http(char c) noexcept {
    return c >= 'A' && c <= 'Z';
}

shm::tls_failure failure_kind(int reason) noexcept {
    switch (reason) {
        case SSL_R_UNSUPPORTED_PROTOCOL:
        case SSL_R_NO_PROTOCOLS_AVAILABLE:
        case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        case SSL_R_VERSION_TOO_LOW:
            return shm::tls_failure::protocol_version;
        case SSL_R_NO_SHARED_CIPHER:
        case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
        case SSL_R_NO_SHARED_GROUPS:
            return shm::tls_failure::no_shared_cipher;
        case SSL_R_WRONG_VERSION_NUMBER:
        case SSL_R_RECORD_LENGTH_MISMATCH:
        case SSL_R_PACKET_LENGTH_TOO_LONG:
        case SSL_R_LENGTH_MISMATCH:
        case SSL_R_BAD_PACKET_LENGTH:
        case SSL_R_UNEXPECTED_RECORD:
        case SSL_R_UNEXPECTED_MESSAGE:
        case SSL_R_BAD_EXTENSION:
        case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
        case SSL_R_HTTP_REQUEST:
        case SSL_R_HTTPS_PROXY_REQUEST:
            return shm::tls_failure::malformed;
        default:
            return shm::tls_failure::other;
    }
}

std::size_t name_index(const std::string_view* names, std::size_t count, const char* name) noexcept {
    const std::string_view n = name ? name : "";
    for (std::size_t i = 0; i + 1 < count; ++i)
        if (names[i] == n) return i;
    return count - 1;  // the last name is the catch-all
}
}  // namespace

bool connection::use_tls(SSL_CTX* ctx) noexcept {
    tls_ = new (std::nothrow) tls_transport();
    if (!tls_) return false;
    if (!tls_->open(ctx, nullptr, nullptr)) {
        delete tls_;
        tls_ = nullptr;
        return false;
    }
    return true;
}

void connection::tls_alloc(uv_buf_t* buf) noexcept {
    http::byte_buffer*& cin = tls_->cipher_in();
    if (!cin) cin = srv_->buffers().acquire();
    if (cin->capacity() - cin->size() < min_cipher_space) {
        tls_->compact_input();
        if (cin->capacity() - cin->size() < min_cipher_space) {
            try {
                cin->reserve(cin->size() + (cin->size() > min_cipher_space ? cin->size() : min_cipher_space));
            } catch (const std::bad_alloc&) {
            }
        }
    }
    buf->base = cin->data() + cin->size();
    buf->len = cin->capacity() - cin->size();
}

void connection::tls_on_cipher(std::size_t n) noexcept {
    http::byte_buffer* cin = tls_->cipher_in();
    cin->commit(n);
    // OpenSSL may answer anything it reads (a flight, an alert, a ticket): room for it first.
    if (!tls_->cipher_out()) tls_->cipher_out() = srv_->buffers().acquire();
    shm::add(srv_->counters().bytes_in, n);
    if (phase_ == phase::linger || phase_ == phase::closing) {
        cin->clear();
        return;
    }
    if (!tls_->established()) {
        if (tls_->consumed() == 0 && cin->size() == n && looks_like_plain_http(cin->data()[0])) {
            count_tls_failure(shm::tls_failure::plain_http);
            answer_plain_http_on_tls_port();
            return;
        }
        const tls_transport::status s = tls_->handshake();
        if (s == tls_transport::status::failed || s == tls_transport::status::closed) {
            FF_LOG_DEBUG("connection %llu: TLS handshake failed: %s", static_cast<unsigned long long>(id_),
                         tls_->failure_reason() ? tls_->failure_reason() : "closed");
            count_tls_failure(failure_kind(tls_->failure_code()));
            tls_write_pending();  // the alert
            close_now();
            return;
        }
        if (!tls_->established()) {
            if (!tls_write_pending()) close_now();
            return;
        }
        count_tls_established();
    }
    // Established: decrypt everything buffered into the read buffer, as a plain read would
    // have put it there.
    bool produced = false;
    bool peer_closed = false;
    for (;;) {
        uv_buf_t b;
        alloc_input(&b);
        if (b.len == 0) break;  // pinned and full: the rest waits in OpenSSL and cipher_in
        std::size_t got = 0;
        const tls_transport::status s = tls_->read(b.base, b.len, got);
        if (got) {
            in_->commit(got);
            produced = true;
        }
        if (s == tls_transport::status::want_read) break;
        if (s == tls_transport::status::closed) {
            peer_closed = true;
            break;
        }
        if (s == tls_transport::status::failed) {
            // Garbage after the handshake: OpenSSL queued a fatal alert; send it and close.
            tls_write_pending();
            close_now();
            return;
        }
    }
    // Handshake flights and TLS 1.3 tickets go out now, unless a fiber's write owns the socket
    // (then they go ahead of its next sealed batch, in order).
    if (!write_queued_ && !tls_write_pending()) {
        close_now();
        return;
    }
    if (cin->empty() && tls_->consumed() == 0 && phase_ == phase::idle) {
        // An idle TLS connection holds no buffer of its own, as a plain one (OpenSSL keeps its
        // own record buffers unless SSL_MODE_RELEASE_BUFFERS).
        srv_->buffers().release(cin);
        tls_->cipher_in() = nullptr;
        if (!write_queued_ && tls_->cipher_out() && tls_->cipher_out()->empty()) {
            srv_->buffers().release(tls_->cipher_out());
            tls_->cipher_out() = nullptr;
        }
    }
    if (produced) on_input();
    if (peer_closed && phase_ != phase::closing) on_peer_gone(UV_EOF);
}

void connection::count_tls_failure(shm::tls_failure why) noexcept {
    auto& c = srv_->counters();
    shm::add(c.tls_handshakes[static_cast<int>(shm::tls_handshake::failed)]);
    shm::add(c.tls_handshake_failures[static_cast<int>(why)]);
}

void connection::count_tls_established() noexcept {
    auto& c = srv_->counters();
    SSL* ssl = tls_->native();
    shm::add(c.tls_handshakes[static_cast<int>(SSL_session_reused(ssl) ? shm::tls_handshake::resumed
                                                                       : shm::tls_handshake::full)]);
    shm::add(c.tls_versions[SSL_version(ssl) == TLS1_3_VERSION ? 1 : 0]);
    shm::add(
        c.tls_ciphers[name_index(shm::tls_cipher_names, std::size(shm::tls_cipher_names), SSL_get_cipher_name(ssl))]);
}

bool connection::tls_write_pending() noexcept {
    http::byte_buffer* cout = tls_->cipher_out();
    if (!cout || cout->empty()) return true;
    ssize_t w;
    do {
        w = ::write(fd_, cout->data(), cout->size());
    } while (w < 0 && errno == EINTR);
    if (w < 0 || static_cast<std::size_t>(w) != cout->size()) {
        // A handshake flight is a few KiB into an empty send buffer: a short write here means
        // the peer reads nothing. Not waited for on the loop; the connection is given up.
        cout->clear();
        return false;
    }
    shm::add(srv_->counters().bytes_out, static_cast<std::uint64_t>(w));
    cout->clear();
    return true;
}

bool connection::tls_seal() noexcept {
    http::byte_buffer*& cout = tls_->cipher_out();
    if (!cout) cout = srv_->buffers().acquire();
    // Ciphertext already there (a ticket) goes first; the records of this batch follow it.
    if (!tls_->write(out_->data(), out_->size())) return false;
    out_->clear();
    std::swap(out_, cout);  // the write path sends out_: now the ciphertext
    return true;
}

void connection::answer_plain_http_on_tls_port() noexcept {
    char head[256];
    const std::string_view date = srv_->http_date();
    const int len = std::snprintf(head, sizeof head,
                                  "HTTP/1.1 400 Bad Request\r\nDate: %.*s\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                  static_cast<int>(date.size()), date.data(), plain_http_body.size());
    shm::count_status(srv_->counters(), 400);
    iovec iov[2] = {{head, static_cast<std::size_t>(len)},
                    {const_cast<char*>(plain_http_body.data()), plain_http_body.size()}};
    ssize_t w;
    do {
        w = ::writev(fd_, iov, 2);
    } while (w < 0 && errno == EINTR);
    if (w > 0) shm::add(srv_->counters().bytes_out, static_cast<std::uint64_t>(w));
    tls_->cipher_in()->clear();
    close_gracefully();
}

bool connection::tls_send_file(const http::response& resp) noexcept {
    struct pread_job {
        int fd;
        char* dst;
        std::size_t len;
        off_t off;
        ssize_t got = 0;
        int err = 0;
        static void run(void* arg) noexcept {
            auto& j = *static_cast<pread_job*>(arg);
            do {
                j.got = ::pread(j.fd, j.dst, j.len, j.off);
            } while (j.got < 0 && errno == EINTR);
            j.err = j.got < 0 ? errno : 0;
        }
    };
    std::uint64_t off = resp.body_file_offset();
    std::uint64_t left = resp.body_file_length();
    while (left > 0) {
        if (!out_) out_ = srv_->buffers().acquire();
        const std::size_t n = left < file_chunk ? static_cast<std::size_t>(left) : file_chunk;
        char* dst;
        try {
            dst = out_->prepare(n);
        } catch (const std::bad_alloc&) {
            close_now();
            return false;
        }
        // On the thread pool, as sendfile is for plain connections: a cold file never stalls the loop.
        pread_job job{resp.body_file_fd(), dst, n, static_cast<off_t>(off)};
        fiber_->run_blocking(&pread_job::run, &job);
        if (job.got <= 0) {  // an error, or the file shrank under Content-Length
            close_now();
            return false;
        }
        out_->commit(static_cast<std::size_t>(job.got));
        off += static_cast<std::uint64_t>(job.got);
        left -= static_cast<std::uint64_t>(job.got);
        if (!flush()) {
            close_now();
            return false;
        }
    }
    return true;
}

void connection::tls_close_notify() noexcept {
    if (!tls_->established()) return;
    if (!tls_->cipher_out()) tls_->cipher_out() = srv_->buffers().acquire();
    tls_->shutdown();
    if (!write_queued_) (void)tls_write_pending();
}

void connection::tls_release() noexcept {
    if (http::byte_buffer*& b = tls_->cipher_in()) {
        srv_->buffers().release(b);
        b = nullptr;
    }
    if (http::byte_buffer*& b = tls_->cipher_out()) {
        srv_->buffers().release(b);
        b = nullptr;
    }
    tls_->close();
    delete tls_;
    tls_ = nullptr;
}

}  // namespace fastfork::worker
