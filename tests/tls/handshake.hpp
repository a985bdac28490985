#pragma once
// An in-memory TLS handshake between an OpenSSL client and a server context (tls tests): a
// BIO pair stands in for the socket, so SNI, certificate choice, ALPN and resumption are
// checked with a real handshake and no network.

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace fastfork::tls::test {

struct handshake_result {
    bool ok = false;
    bool resumed = false;
    std::string subject_cn;  // of the certificate the server sent
    int key_type = 0;        // of that certificate
    std::string alpn;
    std::shared_ptr<SSL_SESSION> session;  // the client's session, for resuming
};

struct client_options {
    std::string sni;
    std::string sigalgs;  // e.g. "RSA-PSS+SHA256:rsa_pkcs1_sha256" to allow RSA only
    int max_version = TLS1_3_VERSION;
    SSL_SESSION* resume = nullptr;
    std::string alpn_wire;  // e.g. "\x08http/1.1"
};

inline handshake_result run_handshake(SSL_CTX* server_ctx, const client_options& o) {
    handshake_result r;
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_max_proto_version(cctx, o.max_version);
    // No client cache: flushing it when the context goes marks its sessions not resumable.
    SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_OFF);
    if (!o.sigalgs.empty()) SSL_CTX_set1_sigalgs_list(cctx, o.sigalgs.c_str());
    SSL* c = SSL_new(cctx);
    SSL* s = SSL_new(server_ctx);
    BIO *cb = nullptr, *sb = nullptr;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (!o.sni.empty()) SSL_set_tlsext_host_name(c, o.sni.c_str());
    if (o.resume) SSL_set_session(c, o.resume);
    if (!o.alpn_wire.empty())
        SSL_set_alpn_protos(c, reinterpret_cast<const unsigned char*>(o.alpn_wire.data()),
                            static_cast<unsigned>(o.alpn_wire.size()));
    bool c_done = false, s_done = false, failed = false;
    for (int i = 0; i < 50 && !(c_done && s_done) && !failed; ++i) {
        if (!c_done) {
            int rc = SSL_do_handshake(c);
            if (rc == 1)
                c_done = true;
            else if (SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
                failed = true;
        }
        if (!s_done) {
            int rc = SSL_do_handshake(s);
            if (rc == 1)
                s_done = true;
            else if (SSL_get_error(s, rc) != SSL_ERROR_WANT_READ)
                failed = true;
        }
    }
    ERR_clear_error();
    if (c_done && s_done) {
        r.ok = true;
        // TLS 1.3 tickets come after the handshake: let the client read them.
        SSL_write(s, "x", 1);
        char byte;
        SSL_read(c, &byte, 1);
        r.resumed = SSL_session_reused(c) == 1;
        if (X509* peer = SSL_get1_peer_certificate(c)) {
            char cn[256] = {};
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
            r.subject_cn = cn;
            r.key_type = EVP_PKEY_get_base_id(X509_get0_pubkey(peer));
            X509_free(peer);
        }
        const unsigned char* proto = nullptr;
        unsigned len = 0;
        SSL_get0_alpn_selected(c, &proto, &len);
        if (proto) r.alpn.assign(reinterpret_cast<const char*>(proto), len);
        r.session.reset(SSL_get1_session(c), SSL_SESSION_free);
        // Freed without close_notify, OpenSSL marks the session not resumable.
        SSL_shutdown(c);
        SSL_shutdown(s);
    }
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    return r;
}

}  // namespace fastfork::tls::test
