#include "test_pki.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fastfork::tls::test {

namespace {

EVP_PKEY* make_key(key_kind kind) {
    EVP_PKEY* k = kind == key_kind::rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!k) throw std::runtime_error("key generation failed");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

X509* make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, long from_days, long to_days, long serial) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    return x;
}

std::string pem_of(X509* x) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(b);
    return out;
}

std::string pem_of(EVP_PKEY* k) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(b);
    return out;
}

}  // namespace

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path);
}

temp_dir::temp_dir() {
    char tmpl[] = "/tmp/fastfork-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

test_ca::test_ca(const temp_dir& dir) : dir_(dir) {
    key_ = make_key(key_kind::ecdsa);
    cert_ = make_cert(key_, "fastfork test CA", nullptr, -1, 3650, 1);
    add_ext(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_sign(cert_, key_, EVP_sha256());
    ca_file_ = dir_.file("ca.crt");
    write_file(ca_file_, pem_of(cert_));
}

test_ca::~test_ca() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
}

issued test_ca::issue(const std::string& stem,
                      const std::string& cn,
                      const std::vector<std::string>& sans,
                      key_kind kind,
                      long from_days,
                      long to_days,
                      long serial) {
    EVP_PKEY* k = make_key(kind);
    X509* x = make_cert(k, cn, cert_, from_days, to_days, serial);
    add_ext(x, cert_, NID_basic_constraints, "CA:FALSE");
    if (!sans.empty()) {
        std::string list;
        for (const auto& s : sans) list += (list.empty() ? "DNS:" : ",DNS:") + s;
        add_ext(x, cert_, NID_subject_alt_name, list);
    }
    X509_sign(x, key_, EVP_sha256());
    issued out{dir_.file(stem + ".crt"), dir_.file(stem + ".key")};
    write_file(out.certificate, pem_of(x) + pem_of(cert_));
    write_file(out.key, pem_of(k));
    X509_free(x);
    EVP_PKEY_free(k);
    return out;
}

}  // namespace fastfork::tls::test
