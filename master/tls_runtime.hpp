#pragma once
// The master's TLS state (master): the session-ticket key ring every worker of every
// generation shares, its rotation schedule, and the TLS contexts of each generation, built
// before that generation forks (start, reload) so a bad certificate never reaches a worker.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "master/config.hpp"
#include "tls/server_context.hpp"
#include "tls/ticket_keys.hpp"

namespace fastfork::master {

/// Whether any listen address of `cfg` is TLS.
[[nodiscard]] bool uses_tls(const config& cfg) noexcept;

/// Builds the contexts of `cfg` (one per listen address, null for plain ones) on `keys` (may be
/// null: no tickets). On failure returns false with one line in `error` naming the key, the
/// file and the reason; warnings (expiry) are added to `warned`.
[[nodiscard]] bool try_build_contexts(
    const config& cfg, tls::ticket_keys* keys, tls::listener_contexts& out, std::string& error, tls::warnings& warned);

/// Reads `cfg.tls.ticket_key_files`; false with `error` naming the key and the file.
[[nodiscard]] bool try_read_key_files(const config& cfg, std::vector<tls::ticket_key>& out, std::string& error);

class tls_runtime {
public:
    /// Prepares generation `generation` of `cfg`: key files or the ring's first key, then the
    /// contexts. Nothing changes on failure (false, `error` says why). Warnings are logged.
    [[nodiscard]] bool prepare(std::uint64_t generation, const config& cfg, std::string& error);
    /// The contexts a worker of `generation` gets, by listen index; null when it has no TLS.
    [[nodiscard]] const tls::listener_contexts* contexts(std::uint64_t generation) const noexcept;
    /// Forgets every generation but `keep` (after a commit or a rollback).
    void keep_only(std::uint64_t keep) noexcept;

    /// Rotates the generated key when its time has come (called from the master's tick, with
    /// the monotonic clock in ms). Key files never rotate.
    void tick(std::uint64_t now_ms) noexcept;

    /// The key ring's descriptor, for a binary upgrade to pass on (-1 when there is none).
    [[nodiscard]] int ticket_keys_fd() const noexcept { return keys_ ? keys_->fd() : -1; }

private:
    [[nodiscard]] bool ensure_keys(std::string& error);

    std::unique_ptr<tls::ticket_keys> keys_;
    std::map<std::uint64_t, std::unique_ptr<tls::listener_contexts>> generations_;
    bool generated_ = false;              // the ring holds generated keys that rotate
    std::uint64_t rotation_ms_ = 0;       // 0 = no rotation (key files, or no TLS)
    std::uint64_t next_rotation_ms_ = 0;  // monotonic
};

}  // namespace fastfork::master
