#pragma once
// TLS settings as the configuration gives them (master fills them in from the config file;
// worker reads them through tls::server_context). Plain data: no OpenSSL types here.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fastfork::tls {

/// One certificate chain and its private key, PEM files. `names` are the SNI names it answers
/// ("example.com", "*.example.com"); empty = taken from the certificate's subjectAltName DNS
/// entries (or its CN when it has none).
struct certificate_options {
    std::string certificate;         // PEM: the leaf first, then intermediates
    std::string key;                 // PEM private key (RSA or EC), unencrypted
    std::vector<std::string> names;  // exact or "*.suffix" wildcard names; empty = from the certificate
    /// How messages name the two keys: `key "listen[0].tls.certificates[1].certificate"`.
    std::string certificate_where;
    std::string key_where;
};

/// Forward-secret AEAD suites for TLS 1.2 (ECDHE only), ECDSA first (Mozilla "intermediate").
inline constexpr const char* default_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
/// TLS 1.3 suites (OpenSSL's default set, all AEAD).
inline constexpr const char* default_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr const char* default_curves = "X25519:P-256:P-384";

/// The `tls` object of one listen entry.
struct listener_options {
    /// Certificates chosen by SNI; the first is the default (no SNI, or no name matches). Several
    /// may share names when their key types differ (ECDSA beside RSA): the client's signature
    /// algorithms decide.
    std::vector<certificate_options> certificates;
    std::string min_version = "1.2";  // "1.2" or "1.3"; the maximum is always 1.3
    std::string ciphers = default_ciphers;
    std::string ciphersuites = default_ciphersuites;
    std::string curves = default_curves;
    std::uint64_t hsts_max_age = 0;  // seconds; 0 = no Strict-Transport-Security header
    bool hsts_include_subdomains = false;
    std::string where;  // `key "listen[0].tls"`: how messages name this object
};

/// The top-level `tls` object: what every TLS listener of the server shares.
struct server_options {
    std::chrono::milliseconds ticket_key_rotation{12 * 3600 * 1000};  // a new ticket key this often
    /// nginx-compatible 80-byte key files; when given, the first encrypts, all
    /// decrypt, and nothing rotates (the operator rotates the files and reloads).
    std::vector<std::string> ticket_key_files;
    bool session_cache = false;  // a per-worker server-side session cache besides tickets
};

}  // namespace fastfork::tls
