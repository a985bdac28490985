#include "tls/ticket_keys.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fastfork::tls {

namespace {

constexpr std::size_t key_words = sizeof(ticket_key) / sizeof(std::uint64_t);
static_assert(sizeof(ticket_key) == 80 && sizeof(ticket_key) % sizeof(std::uint64_t) == 0);
constexpr std::uint64_t layout_magic = 0x66667469636b6b31;  // "fftickk1"

}  // namespace

// A seqlock over atomic words, so that a worker reading while the master rotates sees either
// the old or the new set, never a mix, and no reader ever waits on a lock the master could
// leave taken by dying. One writer: the master.
struct ticket_keys::shared {
    std::atomic<std::uint64_t> magic;
    std::atomic<std::uint64_t> seq;  // odd while the master writes
    std::atomic<std::uint64_t> rotations;
    std::atomic<std::uint64_t> count;
    std::atomic<std::uint64_t> words[max_keys][key_words];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

std::optional<ticket_key> read_ticket_key_file(const std::string& path, std::string& error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = "\"" + path + "\": " + std::strerror(errno);
        return std::nullopt;
    }
    unsigned char buf[81];
    ssize_t n = ::read(fd, buf, sizeof buf);
    const int read_errno = errno;
    ::close(fd);
    if (n < 0) {
        error = "\"" + path + "\": " + std::strerror(read_errno);
        return std::nullopt;
    }
    if (n != 80) {
        error = "\"" + path + "\": a ticket key file must hold exactly 80 bytes (openssl rand 80), not " +
                (n == 81 ? std::string("more") : std::to_string(n));
        return std::nullopt;
    }
    ticket_key k;
    std::memcpy(k.name.data(), buf, 16);
    std::memcpy(k.hmac_secret.data(), buf + 16, 32);
    std::memcpy(k.aes_key.data(), buf + 48, 32);
    OPENSSL_cleanse(buf, sizeof buf);
    return k;
}

std::optional<ticket_key> generate_ticket_key() {
    ticket_key k;
    if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
        RAND_bytes(k.hmac_secret.data(), static_cast<int>(k.hmac_secret.size())) != 1 ||
        RAND_bytes(k.aes_key.data(), static_cast<int>(k.aes_key.size())) != 1)
        return std::nullopt;
    return k;
}

std::unique_ptr<ticket_keys> ticket_keys::try_create(std::string& error, int inherited_fd) {
    int fd = inherited_fd;
    if (fd < 0) {
        fd = ::memfd_create("fastfork-ticket-keys", MFD_CLOEXEC);
        if (fd < 0) {
            error = std::string("memfd_create(fastfork-ticket-keys) failed: ") + std::strerror(errno);
            return nullptr;
        }
        if (::ftruncate(fd, sizeof(shared)) != 0) {
            error = std::string("ftruncate(ticket keys) failed: ") + std::strerror(errno);
            ::close(fd);
            return nullptr;
        }
    } else {
        struct stat st {};
        if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) != sizeof(shared)) {
            error = "the inherited ticket key descriptor is not a ticket key mapping";
            return nullptr;
        }
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    void* p = ::mmap(nullptr, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        error =
            std::string("mmap(ticket keys, ") + std::to_string(sizeof(shared)) + ") failed: " + std::strerror(errno);
        ::close(fd);
        return nullptr;
    }
    std::unique_ptr<ticket_keys> k(new ticket_keys());
    k->shared_ = static_cast<shared*>(p);
    k->fd_ = fd;
    if (inherited_fd >= 0 && k->shared_->magic.load(std::memory_order_acquire) != layout_magic) {
        error = "the inherited ticket key mapping has another layout";
        return nullptr;
    }
    k->shared_->magic.store(layout_magic, std::memory_order_release);
    return k;
}

ticket_keys::~ticket_keys() {
    if (shared_) ::munmap(shared_, sizeof(shared));
    if (fd_ >= 0) ::close(fd_);
}

namespace {

void store_key(std::atomic<std::uint64_t>* words, const ticket_key& k) noexcept {
    std::uint64_t raw[key_words];
    std::memcpy(raw, &k, sizeof raw);
    for (std::size_t i = 0; i < key_words; ++i) words[i].store(raw[i], std::memory_order_relaxed);
}

ticket_key load_key(const std::atomic<std::uint64_t>* words) noexcept {
    std::uint64_t raw[key_words];
    for (std::size_t i = 0; i < key_words; ++i) raw[i] = words[i].load(std::memory_order_relaxed);
    ticket_key k;
    std::memcpy(&k, raw, sizeof raw);
    return k;
}

}  // namespace

bool ticket_keys::set(const std::vector<ticket_key>& keys) noexcept {
    if (keys.empty() || keys.size() > max_keys) return false;
    const std::uint64_t s = shared_->seq.load(std::memory_order_relaxed);
    shared_->seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t i = 0; i < keys.size(); ++i) store_key(shared_->words[i], keys[i]);
    shared_->count.store(keys.size(), std::memory_order_relaxed);
    shared_->rotations.store(0, std::memory_order_relaxed);
    shared_->seq.store(s + 2, std::memory_order_release);
    return true;
}

void ticket_keys::rotate(const ticket_key& fresh) noexcept {
    // Two keys after a rotation: a ticket is accepted for one more period after its key stops
    // encrypting, and refused after the second rotation.
    const std::uint64_t n = shared_->count.load(std::memory_order_relaxed);
    const std::uint64_t s = shared_->seq.load(std::memory_order_relaxed);
    shared_->seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    if (n > 0) store_key(shared_->words[1], load_key(shared_->words[0]));
    store_key(shared_->words[0], fresh);
    shared_->count.store(n > 0 ? 2 : 1, std::memory_order_relaxed);
    shared_->rotations.fetch_add(1, std::memory_order_relaxed);
    shared_->seq.store(s + 2, std::memory_order_release);
}

std::size_t ticket_keys::snapshot(std::array<ticket_key, max_keys>& out) const noexcept {
    // Bounded: a master killed in the middle of a write leaves seq odd for good; then no key
    // is used (full handshakes) rather than a worker spinning.
    for (int attempt = 0; attempt < 1000; ++attempt) {
        const std::uint64_t s1 = shared_->seq.load(std::memory_order_acquire);
        if (s1 & 1) continue;
        std::size_t n = shared_->count.load(std::memory_order_relaxed);
        if (n > max_keys) n = 0;
        for (std::size_t i = 0; i < n; ++i) out[i] = load_key(shared_->words[i]);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (shared_->seq.load(std::memory_order_relaxed) == s1) return n;
    }
    return 0;
}

std::uint64_t ticket_keys::rotations() const noexcept {
    return shared_->rotations.load(std::memory_order_relaxed);
}

namespace {

int ticket_keys_index() noexcept {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

int set_hmac(EVP_MAC_CTX* hctx, const ticket_key& k) noexcept {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(k.hmac_secret.data()),
                                          k.hmac_secret.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(hctx, params);
}

// OpenSSL's contract (SSL_CTX_set_tlsext_ticket_key_evp_cb): on encryption fill in the key
// name and IV and initialise both contexts, 1 = go on; on decryption find the key by name:
// 0 = unknown (a full handshake follows), 1 = fine, 2 = fine but issue a fresh ticket (an
// older key), -1 = error.
int on_ticket_key(SSL* ssl,
                  unsigned char key_name[16],
                  unsigned char* iv,
                  EVP_CIPHER_CTX* cctx,
                  EVP_MAC_CTX* hctx,
                  int enc) noexcept {
    auto* keys = static_cast<ticket_keys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_index()));
    if (!keys) return enc ? -1 : 0;
    std::array<ticket_key, ticket_keys::max_keys> ring;
    const std::size_t n = keys->snapshot(ring);
    if (enc) {
        if (n == 0) return -1;
        const ticket_key& k = ring[0];
        if (RAND_bytes(iv, 16) != 1) return -1;
        std::memcpy(key_name, k.name.data(), 16);
        if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes_key.data(), iv) != 1) return -1;
        return set_hmac(hctx, k) == 1 ? 1 : -1;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const ticket_key& k = ring[i];
        if (std::memcmp(key_name, k.name.data(), 16) != 0) continue;
        if (set_hmac(hctx, k) != 1) return -1;
        if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, k.aes_key.data(), iv) != 1) return -1;
        return i == 0 ? 1 : 2;
    }
    return 0;
}

}  // namespace

void install_ticket_callback(SSL_CTX* ctx, ticket_keys* keys) noexcept {
    SSL_CTX_set_ex_data(ctx, ticket_keys_index(), keys);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
}

}  // namespace fastfork::tls
