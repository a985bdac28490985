#pragma once
// A ready SSL_CTX for one TLS listening socket (built by the master before fork, used by the
// worker's connections): certificates chosen by SNI, versions, suites, curves, ALPN, session
// tickets from the shared ticket keys. This is the API between tls/ and the runtime.

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tls/options.hpp"

namespace fastfork::tls {

class ticket_keys;

/// ALPN: the protocols a listener offers, in the server's order of preference, as the names
/// sent on the wire. http/1.1 only today; HTTP/2 adds "h2" in front.
struct alpn_protocols {
    std::vector<std::string> names{"http/1.1"};
};

/// What building contexts found besides errors: an expired or not-yet-valid certificate, a
/// name given twice. Each line names the key, the file and the reason.
using warnings = std::vector<std::string>;

/// One listener's TLS state: owns an SSL_CTX (with SNI selection, ALPN and the ticket key
/// callback installed) plus one more SSL_CTX per extra certificate group it switches to.
class server_context {
public:
    /// Loads every certificate and key of `opts` and builds the contexts. On failure returns
    /// nullptr and sets `error` to one line naming the config key, the file and the reason
    /// (OpenSSL's error string). `keys` (may be null: no tickets) must outlive the context.
    [[nodiscard]] static std::unique_ptr<server_context> try_create(const listener_options& opts,
                                                                    const server_options& server,
                                                                    ticket_keys* keys,
                                                                    std::string& error,
                                                                    warnings& warned);
    ~server_context();
    server_context(const server_context&) = delete;
    server_context& operator=(const server_context&) = delete;

    /// The context a connection's SSL is made from (SSL_new); the SNI callback switches to the
    /// certificate's own context with SSL_set_SSL_CTX. Valid while this object lives.
    [[nodiscard]] SSL_CTX* native() const noexcept { return default_ctx_; }

    /// The Strict-Transport-Security value ("max-age=31536000; includeSubDomains"), empty when
    /// HSTS is off: the runtime adds `Strict-Transport-Security: <this>` to responses.
    [[nodiscard]] std::string_view hsts_header_value() const noexcept { return hsts_; }

    /// The protocols ALPN offers; read by the ALPN callback (the runtime sees the choice with
    /// SSL_get0_alpn_selected).
    [[nodiscard]] const alpn_protocols& alpn() const noexcept { return alpn_; }

    /// The certificate group SNI picks for `host_name` (case-insensitive; exact names before
    /// wildcards, a wildcard matching one label); the default group when nothing matches.
    /// Index into the groups, 0 = default. For tests and the SNI callback.
    [[nodiscard]] std::size_t select_index(std::string_view host_name) const noexcept;
    /// The context of group `index` (see select_index).
    [[nodiscard]] SSL_CTX* context_at(std::size_t index) const noexcept;

    struct group;  // one SSL_CTX with one or more certificates (one per key type) and its names

private:
    server_context() = default;

    SSL_CTX* default_ctx_ = nullptr;
    std::vector<std::unique_ptr<group>> groups_;
    std::string hsts_;
    alpn_protocols alpn_;
};

/// The TLS contexts of one generation: index i belongs to listen address i, null for a plain
/// listener. Built in the master (start, reload) before the generation forks.
struct listener_contexts {
    std::vector<std::unique_ptr<server_context>> by_listen_index;
    [[nodiscard]] const server_context* at(std::size_t i) const noexcept {
        return i < by_listen_index.size() ? by_listen_index[i].get() : nullptr;
    }
};

}  // namespace fastfork::tls
