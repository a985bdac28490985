#pragma once
// Session-ticket keys shared by the master and every worker (master writes, workers read): a
// small shared mapping created before the first fork, so that every worker of every generation
// encrypts with the same current key and decrypts with the previous one, and sees rotations at
// once without a reload.

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fastfork::tls {

/// One ticket key, in nginx's 80-byte key file order: name, HMAC secret, AES-256 key.
struct ticket_key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> hmac_secret{};
    std::array<unsigned char, 32> aes_key{};
};

/// Reads an nginx-compatible 80-byte key file (name, HMAC secret, AES-256 key: as made by
/// `openssl rand 80 > ticket.key`). nullopt with `error` naming the file and the reason.
[[nodiscard]] std::optional<ticket_key> read_ticket_key_file(const std::string& path, std::string& error);

/// A fresh random key (RAND_bytes); nullopt when the RNG fails.
[[nodiscard]] std::optional<ticket_key> generate_ticket_key();

/// The keys in use: [0] encrypts new tickets, every entry decrypts. Lives in a MAP_SHARED
/// mapping (memfd) so fork shares it and a binary upgrade can pass its descriptor on.
class ticket_keys {
public:
    static constexpr std::size_t max_keys = 8;  // current + previous, or up to 8 key files

    /// Maps a new ring (or, with `inherited_fd` >= 0, an existing one: binary upgrade).
    /// nullptr with `error` when memfd_create/mmap fails.
    [[nodiscard]] static std::unique_ptr<ticket_keys> try_create(std::string& error, int inherited_fd = -1);
    ~ticket_keys();
    ticket_keys(const ticket_keys&) = delete;
    ticket_keys& operator=(const ticket_keys&) = delete;

    /// Master: replaces every key (key files, or the first key at start). Returns false with no
    /// change when `keys` is empty or longer than max_keys.
    bool set(const std::vector<ticket_key>& keys) noexcept;
    /// Master: `fresh` becomes the encryption key; the previous current key is kept for
    /// decryption and anything older is dropped (a ticket lives at most two rotation periods).
    void rotate(const ticket_key& fresh) noexcept;

    /// Worker: a consistent copy of the keys (seqlock read; never blocks). Returns the count.
    std::size_t snapshot(std::array<ticket_key, max_keys>& out) const noexcept;
    /// Rotations so far (0 after set()).
    [[nodiscard]] std::uint64_t rotations() const noexcept;
    /// The descriptor of the mapping (inherited by workers through fork, CLOEXEC otherwise).
    [[nodiscard]] int fd() const noexcept { return fd_; }

    struct shared;  // the mapped layout

private:
    ticket_keys() = default;
    shared* shared_ = nullptr;
    int fd_ = -1;
};

/// Installs `keys` on `ctx` with SSL_CTX_set_tlsext_ticket_key_evp_cb (EVP_MAC HMAC-SHA256,
/// AES-256-CBC): new tickets under keys[0], renewal of tickets under an older key.
void install_ticket_callback(SSL_CTX* ctx, ticket_keys* keys) noexcept;

}  // namespace fastfork::tls
