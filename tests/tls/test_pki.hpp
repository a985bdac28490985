#pragma once
// Certificates made at test time (tls tests): a CA, leaves with chosen names, key types and
// validity, written as PEM files to a fresh temporary directory. No private key is committed.

#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace fastfork::tls::test {

enum class key_kind { rsa, ecdsa };

/// A temporary directory removed with everything in it when the object goes.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Paths of one issued certificate (leaf, then the CA in the same file) and its key.
struct issued {
    std::string certificate;
    std::string key;
};

/// A CA that issues leaves into `dir`.
class test_ca {
public:
    explicit test_ca(const temp_dir& dir);
    ~test_ca();
    test_ca(const test_ca&) = delete;
    test_ca& operator=(const test_ca&) = delete;

    /// Issues `stem`.crt/.key with CN = `cn`, the DNS `sans` (may be empty), valid from
    /// now + `from_days` to now + `to_days`, serial `serial`.
    issued issue(const std::string& stem,
                 const std::string& cn,
                 const std::vector<std::string>& sans,
                 key_kind kind = key_kind::ecdsa,
                 long from_days = -1,
                 long to_days = 30,
                 long serial = 2);
    /// The CA certificate's PEM file (for a client's trust store).
    [[nodiscard]] const std::string& certificate() const { return ca_file_; }

private:
    const temp_dir& dir_;
    EVP_PKEY* key_ = nullptr;
    X509* cert_ = nullptr;
    std::string ca_file_;
};

/// Writes `text` to `path`.
void write_file(const std::string& path, const std::string& text);

}  // namespace fastfork::tls::test
