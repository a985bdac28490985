#pragma once
// Loading one certificate chain and its private key from PEM files (master, before fork; and
// --check-config): every failure as one line naming the config key, the file and OpenSSL's
// reason, validity dates as warnings, and the DNS names the certificate is for.

#include <openssl/ssl.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "tls/options.hpp"

namespace fastfork::tls {

struct x509_free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct chain_free {
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};

/// A loaded certificate: the leaf, its intermediates and its key, checked to belong together.
struct loaded_certificate {
    std::unique_ptr<X509, x509_free> leaf;
    std::unique_ptr<STACK_OF(X509), chain_free> chain;  // intermediates, may be empty
    std::unique_ptr<EVP_PKEY, pkey_free> key;
    int key_type = 0;                // EVP_PKEY_RSA, EVP_PKEY_EC, …
    std::vector<std::string> names;  // lower-case: the configured names, else the SAN DNS names (else CN)
};

/// "RSA", "ECDSA", "Ed25519", …: how messages name a key type.
[[nodiscard]] std::string key_type_name(int key_type);

/// Loads `opts.certificate` and `opts.key`. On failure returns false and sets `error`, e.g.
/// `key "listen[0].tls.key": "/etc/k.pem": x509 certificate routines: key values mismatch`.
/// A certificate outside its validity period loads, with a warning naming the date.
/// `now` is the time validity is judged at.
[[nodiscard]] bool try_load_certificate(const certificate_options& opts,
                                        loaded_certificate& out,
                                        std::string& error,
                                        std::vector<std::string>& warnings,
                                        std::time_t now = std::time(nullptr));

/// OpenSSL's reason for the last error on this thread ("PEM routines: no start line"), or
/// `fallback` when its queue is empty; clears the queue.
[[nodiscard]] std::string openssl_reason(const std::string& fallback);

}  // namespace fastfork::tls
