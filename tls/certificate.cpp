#include "tls/certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fastfork::tls {

namespace {

struct bio_free {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Opens `path` for PEM reading; an unreadable file is reported with errno's text, which says
// more than OpenSSL's "system library" entry.
std::unique_ptr<BIO, bio_free> open_pem(const std::string& where, const std::string& path, std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        error = where + ": \"" + path + "\": " + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<BIO, bio_free> bio(BIO_new_fp(f, BIO_CLOSE));
    if (!bio) {
        std::fclose(f);
        error = where + ": \"" + path + "\": " + openssl_reason("cannot make a BIO");
    }
    return bio;
}

std::string format_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::vector<std::string> names_of(X509* x) {
    std::vector<std::string> out;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type != GEN_DNS) continue;
            const ASN1_IA5STRING* s = n->d.dNSName;
            out.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s)))));
        }
        GENERAL_NAMES_free(sans);
    }
    if (out.empty()) {
        // RFC 6125 §6.4.4: the CN only when there is no DNS subjectAltName.
        char cn[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0)
            out.push_back(lower(cn));
    }
    return out;
}

}  // namespace

std::string openssl_reason(const std::string& fallback) {
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0) return fallback;
    const char* lib = ERR_lib_error_string(e);
    const char* reason = ERR_reason_error_string(e);
    std::string out;
    if (lib) out = std::string(lib) + ": ";
    if (reason) {
        out += reason;
    } else {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += buf;
    }
    return out;
}

std::string key_type_name(int key_type) {
    switch (key_type) {
        case EVP_PKEY_RSA:
        case EVP_PKEY_RSA_PSS:
            return "RSA";
        case EVP_PKEY_EC:
            return "ECDSA";
        case EVP_PKEY_ED25519:
            return "Ed25519";
        case EVP_PKEY_ED448:
            return "Ed448";
        default:
            return "key type " + std::to_string(key_type);
    }
}

bool try_load_certificate(const certificate_options& opts,
                          loaded_certificate& out,
                          std::string& error,
                          std::vector<std::string>& warnings,
                          std::time_t now) {
    ERR_clear_error();
    const std::string& cw = opts.certificate_where;
    const std::string& kw = opts.key_where;
    if (opts.certificate.empty()) {
        error = cw + ": a certificate file is required";
        return false;
    }
    if (opts.key.empty()) {
        error = kw + ": a key file is required";
        return false;
    }
    auto cert_bio = open_pem(cw, opts.certificate, error);
    if (!cert_bio) return false;
    out.leaf.reset(PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!out.leaf) {
        error = cw + ": \"" + opts.certificate + "\": not a PEM certificate (" + openssl_reason("no certificate") + ")";
        return false;
    }
    out.chain.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr))
        sk_X509_push(out.chain.get(), extra);
    // The loop ends on "no start line" at the end of the file: that is not an error.
    unsigned long e = ERR_peek_last_error();
    if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        error = cw + ": \"" + opts.certificate + "\": a bad certificate after the first (" + openssl_reason("") + ")";
        return false;
    }
    ERR_clear_error();

    auto key_bio = open_pem(kw, opts.key, error);
    if (!key_bio) return false;
    out.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!out.key) {
        error = kw + ": \"" + opts.key + "\": not a PEM private key (" + openssl_reason("no key") + ")";
        return false;
    }
    out.key_type = EVP_PKEY_get_base_id(out.key.get());
    if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
        error = kw + ": \"" + opts.key + "\" does not belong to the certificate \"" + opts.certificate + "\" (" +
                openssl_reason("key values mismatch") + ")";
        return false;
    }

    const ASN1_TIME* not_before = X509_get0_notBefore(out.leaf.get());
    const ASN1_TIME* not_after = X509_get0_notAfter(out.leaf.get());
    std::time_t t = now;
    if (X509_cmp_time(not_after, &t) < 0)
        warnings.push_back(cw + ": \"" + opts.certificate + "\": the certificate expired on " + format_time(not_after));
    else if (X509_cmp_time(not_before, &t) > 0)
        warnings.push_back(cw + ": \"" + opts.certificate + "\": the certificate is not valid before " +
                           format_time(not_before));

    out.names.clear();
    for (const auto& n : opts.names) out.names.push_back(lower(n));
    if (out.names.empty()) out.names = names_of(out.leaf.get());
    return true;
}

}  // namespace fastfork::tls
