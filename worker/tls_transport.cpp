#include "worker/tls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cstring>
#include <new>

namespace fastfork::worker {

BIO_METHOD* tls_transport::method() noexcept {
    // One method for the process, made on first use (OpenSSL 3 has no static initializer).
    static BIO_METHOD* m = [] {
        BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fastfork buffers");
        BIO_meth_set_write_ex(bm, &tls_transport::bio_write);
        BIO_meth_set_read_ex(bm, &tls_transport::bio_read);
        BIO_meth_set_ctrl(bm, &tls_transport::bio_ctrl);
        return bm;
    }();
    return m;
}

int tls_transport::bio_write(BIO* b, const char* data, std::size_t n, std::size_t* written) {
    auto* t = static_cast<tls_transport*>(BIO_get_data(b));
    try {
        t->out_->append(std::string_view(data, n));
    } catch (const std::bad_alloc&) {
        return 0;
    }
    *written = n;
    return 1;
}

int tls_transport::bio_read(BIO* b, char* data, std::size_t n, std::size_t* read) {
    auto* t = static_cast<tls_transport*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    const std::size_t avail = t->in_->size() - t->rd_;
    if (avail == 0) {
        BIO_set_retry_read(b);  // non-blocking: more ciphertext comes with the next socket read
        *read = 0;
        return 0;
    }
    const std::size_t k = avail < n ? avail : n;
    std::memcpy(data, t->in_->data() + t->rd_, k);
    t->rd_ += k;
    if (t->rd_ == t->in_->size()) {
        t->in_->clear();
        t->rd_ = 0;
    }
    *read = k;
    return 1;
}

long tls_transport::bio_ctrl(BIO* /*b*/, int cmd, long /*num*/, void* /*ptr*/) {
    // Writes land in the buffer at once: a flush is always complete.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

bool tls_transport::open(SSL_CTX* ctx, http::byte_buffer* in, http::byte_buffer* out) noexcept {
    in_ = in;
    out_ = out;
    rd_ = 0;
    failure_ = nullptr;
    failure_code_ = 0;
    established_ = false;
    ssl_ = SSL_new(ctx);
    if (!ssl_) return false;
    BIO* bio = BIO_new(method());
    if (!bio) {
        SSL_free(ssl_);
        ssl_ = nullptr;
        return false;
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);
    SSL_set_accept_state(ssl_);
    return true;
}

void tls_transport::close() noexcept {
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
}

tls_transport::status tls_transport::classify(int rc) noexcept {
    switch (SSL_get_error(ssl_, rc)) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:  // our BIO never refuses a write; treat as "call again"
            return status::want_read;
        case SSL_ERROR_ZERO_RETURN:
            return status::closed;
        default: {
            const unsigned long e = ERR_peek_last_error();
            failure_ = e ? ERR_reason_error_string(e) : "protocol error";
            failure_code_ = e ? ERR_GET_REASON(e) : 0;
            if (!failure_) failure_ = "protocol error";
            ERR_clear_error();
            return status::failed;
        }
    }
}

tls_transport::status tls_transport::handshake() noexcept {
    if (established_) return status::ok;
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
        established_ = true;
        return status::ok;
    }
    return classify(rc);
}

tls_transport::status tls_transport::read(char* dst, std::size_t cap, std::size_t& n) noexcept {
    n = 0;
    if (cap == 0) return status::ok;
    const int rc = SSL_read_ex(ssl_, dst, cap, &n);
    if (rc == 1) return status::ok;
    return classify(rc);
}

bool tls_transport::write(const char* src, std::size_t n) noexcept {
    std::size_t done = 0;
    while (done < n) {
        std::size_t w = 0;
        if (SSL_write_ex(ssl_, src + done, n - done, &w) != 1) {
            ERR_clear_error();
            return false;
        }
        done += w;
    }
    return true;
}

void tls_transport::shutdown() noexcept {
    if (established_ && SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

void tls_transport::compact_input() noexcept {
    if (rd_ == 0) return;
    in_->consume(rd_);
    rd_ = 0;
}

bool tls_transport::ktls_send() const noexcept {
    return ssl_ && BIO_get_ktls_send(SSL_get_wbio(ssl_));
}

bool tls_transport::ktls_recv() const noexcept {
    return ssl_ && BIO_get_ktls_recv(SSL_get_rbio(ssl_));
}

}  // namespace fastfork::worker
