#include "tls/server_context.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "tls/certificate.hpp"
#include "tls/ticket_keys.hpp"

namespace fastfork::tls {

// Certificates that answer the same names share one SSL_CTX: OpenSSL keeps one certificate per
// key type in a context and picks the one the client's signature algorithms allow, which is
// how ECDSA and RSA are served side by side.
struct server_context::group {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // sorted, lower-case
    std::vector<int> key_types;
    ~group() {
        if (ctx) SSL_CTX_free(ctx);
    }
};

namespace {

int context_index() noexcept {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

// SNI (RFC 6066 §3): switch the connection to the context of the certificates for its name;
// an unknown name is served the default certificate rather than refused, as nginx does.
int on_servername(SSL* ssl, int* /*alert*/, void* arg) noexcept {
    auto* self = static_cast<const server_context*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_NOACK;
    const std::size_t i = self->select_index(name);
    if (i != 0) SSL_set_SSL_CTX(ssl, self->context_at(i));
    return SSL_TLSEXT_ERR_OK;
}

// ALPN (RFC 7301): the server's order decides; a client offering none of ours gets
// no_application_protocol (§3.2).
int on_alpn(SSL* ssl,
            const unsigned char** out,
            unsigned char* outlen,
            const unsigned char* in,
            unsigned int inlen,
            void* /*arg*/) noexcept {
    auto* self = static_cast<const server_context*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
    if (!self) return SSL_TLSEXT_ERR_NOACK;
    for (const auto& mine : self->alpn().names) {
        for (unsigned int i = 0; i < inlen;) {
            const unsigned int len = in[i];
            if (i + 1 + len > inlen) break;
            if (len == mine.size() && std::equal(mine.begin(), mine.end(), in + i + 1)) {
                *out = in + i + 1;
                *outlen = static_cast<unsigned char>(len);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

bool configure(
    SSL_CTX* ctx, const listener_options& opts, const server_options& server, ticket_keys* keys, std::string& error) {
    const int min = opts.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    // No compression (CRIME), no renegotiation; the client's suite preference is kept (the
    // default sets are all forward-secret AEAD, and a client knows whether it has AES-NI).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(ctx, opts.ciphers.c_str()) != 1) {
        error = opts.where + ": field \"ciphers\": \"" + opts.ciphers + "\": " + openssl_reason("no cipher matches");
        return false;
    }
    if (SSL_CTX_set_ciphersuites(ctx, opts.ciphersuites.c_str()) != 1) {
        error = opts.where + ": field \"ciphersuites\": \"" + opts.ciphersuites +
                "\": " + openssl_reason("no TLS 1.3 suite matches");
        return false;
    }
    if (SSL_CTX_set1_groups_list(ctx, opts.curves.c_str()) != 1) {
        error = opts.where + ": field \"curves\": \"" + opts.curves + "\": " + openssl_reason("unknown curve");
        return false;
    }
    static const unsigned char id[] = "fastfork";
    SSL_CTX_set_session_id_context(ctx, id, sizeof id - 1);
    SSL_CTX_set_session_cache_mode(ctx, server.session_cache ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
    if (keys) {
        install_ticket_callback(ctx, keys);
        // A ticket is good while its key still decrypts: between one and two rotations.
        const auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(2 * server.ticket_key_rotation).count();
        SSL_CTX_set_timeout(ctx, static_cast<long>(std::clamp<long long>(lifetime, 1, 7 * 24 * 3600)));
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, server.session_cache ? 1 : 0);
    }
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, nullptr);
    return true;
}

std::string hsts_value(const listener_options& opts) {
    if (opts.hsts_max_age == 0) return {};
    std::string v = "max-age=" + std::to_string(opts.hsts_max_age);
    if (opts.hsts_include_subdomains) v += "; includeSubDomains";
    return v;
}

}  // namespace

std::unique_ptr<server_context> server_context::try_create(const listener_options& opts,
                                                           const server_options& server,
                                                           ticket_keys* keys,
                                                           std::string& error,
                                                           warnings& warned) {
    if (opts.certificates.empty()) {
        error = opts.where + ": at least one certificate is required";
        return nullptr;
    }
    std::unique_ptr<server_context> self(new server_context());
    self->hsts_ = hsts_value(opts);
    for (const auto& c : opts.certificates) {
        loaded_certificate cert;
        if (!try_load_certificate(c, cert, error, warned)) return nullptr;
        std::vector<std::string> names = cert.names;
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        group* g = nullptr;
        for (auto& existing : self->groups_)
            if (existing->names == names) g = existing.get();
        if (!g) {
            auto fresh = std::make_unique<group>();
            fresh->ctx = SSL_CTX_new(TLS_server_method());
            if (!fresh->ctx) {
                error = opts.where + ": " + openssl_reason("SSL_CTX_new failed");
                return nullptr;
            }
            if (!configure(fresh->ctx, opts, server, keys, error)) return nullptr;
            SSL_CTX_set_ex_data(fresh->ctx, context_index(), self.get());
            fresh->names = std::move(names);
            g = fresh.get();
            self->groups_.push_back(std::move(fresh));
        }
        if (std::find(g->key_types.begin(), g->key_types.end(), cert.key_type) != g->key_types.end()) {
            error = c.certificate_where + ": \"" + c.certificate + "\": another " + key_type_name(cert.key_type) +
                    " certificate is given for the same names already; one per key type (ECDSA beside RSA)";
            return nullptr;
        }
        if (SSL_CTX_use_cert_and_key(g->ctx, cert.leaf.get(), cert.key.get(), cert.chain.get(), 1) != 1) {
            error =
                c.certificate_where + ": \"" + c.certificate + "\": " + openssl_reason("cannot use the certificate");
            return nullptr;
        }
        g->key_types.push_back(cert.key_type);
    }
    // A name is looked up in certificate order, so a later certificate never gets it.
    for (std::size_t gi = 1; gi < self->groups_.size(); ++gi)
        for (const auto& n : self->groups_[gi]->names)
            if (self->select_index(n) != gi)
                warned.push_back(opts.where + ": the name \"" + n +
                                 "\" belongs to an earlier certificate already; the later one is never chosen for it");
    self->default_ctx_ = self->groups_.front()->ctx;
    SSL_CTX_set_tlsext_servername_callback(self->default_ctx_, on_servername);
    SSL_CTX_set_tlsext_servername_arg(self->default_ctx_, self.get());
    return self;
}

server_context::~server_context() = default;

std::size_t server_context::select_index(std::string_view host) const noexcept {
    // Lower-case into a stack buffer: this runs once per handshake and allocates nothing.
    char buf[256];
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty() || host.size() >= sizeof buf) return 0;
    for (std::size_t i = 0; i < host.size(); ++i)
        buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(host[i])));
    const std::string_view name(buf, host.size());
    for (std::size_t g = 0; g < groups_.size(); ++g)
        for (const auto& n : groups_[g]->names)
            if (n == name) return g;
    // A wildcard covers exactly one left-most label (RFC 6125 §6.4.3): *.example.com matches
    // a.example.com, not example.com nor a.b.example.com.
    const auto dot = name.find('.');
    if (dot == std::string_view::npos || dot == 0) return 0;
    const std::string_view rest = name.substr(dot);
    for (std::size_t g = 0; g < groups_.size(); ++g)
        for (const auto& n : groups_[g]->names)
            if (n.size() == rest.size() + 1 && n[0] == '*' && std::string_view(n).substr(1) == rest) return g;
    return 0;
}

SSL_CTX* server_context::context_at(std::size_t index) const noexcept {
    return index < groups_.size() ? groups_[index]->ctx : default_ctx_;
}

}  // namespace fastfork::tls
