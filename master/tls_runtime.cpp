#include "master/tls_runtime.hpp"

#include <cstdlib>
#include <utility>

#include "master/upgrade.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"

namespace fastfork::master {

bool uses_tls(const config& cfg) noexcept {
    for (const auto& t : cfg.listen_tls)
        if (t) return true;
    return false;
}

bool try_build_contexts(
    const config& cfg, tls::ticket_keys* keys, tls::listener_contexts& out, std::string& error, tls::warnings& warned) {
    out.by_listen_index.clear();
    for (std::size_t i = 0; i < cfg.listen.size(); ++i) {
        if (i >= cfg.listen_tls.size() || !cfg.listen_tls[i]) {
            out.by_listen_index.push_back(nullptr);
            continue;
        }
        auto ctx = tls::server_context::try_create(*cfg.listen_tls[i], cfg.tls, keys, error, warned);
        if (!ctx) return false;
        out.by_listen_index.push_back(std::move(ctx));
    }
    return true;
}

bool try_read_key_files(const config& cfg, std::vector<tls::ticket_key>& out, std::string& error) {
    out.clear();
    for (std::size_t i = 0; i < cfg.tls.ticket_key_files.size(); ++i) {
        std::string why;
        auto k = tls::read_ticket_key_file(cfg.tls.ticket_key_files[i], why);
        if (!k) {
            error = "key \"tls.ticket_key_files[" + std::to_string(i) + "]\": " + why;
            return false;
        }
        out.push_back(*k);
    }
    return true;
}

bool tls_runtime::ensure_keys(std::string& error) {
    if (keys_) return true;
    // A binary upgrade hands the old master's ring over, so tickets survive the new binary.
    int inherited = -1;
    if (const char* fd = std::getenv(ticket_keys_env)) {
        inherited = std::atoi(fd);
        ::unsetenv(ticket_keys_env);
    }
    keys_ = tls::ticket_keys::try_create(error, inherited);
    if (!keys_ && inherited >= 0) {
        FF_LOG_WARN("ticket keys of the old master not usable (%s): new keys", error.c_str());
        keys_ = tls::ticket_keys::try_create(error);
    } else if (keys_ && inherited >= 0) {
        std::array<tls::ticket_key, tls::ticket_keys::max_keys> ring;
        const std::size_t n = keys_->snapshot(ring);
        generated_ = n > 0;  // rotation goes on from here
        FF_LOG_INFO("session ticket keys taken over from the previous master (%zu key%s)", n, n == 1 ? "" : "s");
    }
    return keys_ != nullptr;
}

bool tls_runtime::prepare(std::uint64_t generation, const config& cfg, std::string& error) {
    if (!uses_tls(cfg)) {
        generations_[generation] = std::make_unique<tls::listener_contexts>();
        return true;
    }
    if (!ensure_keys(error)) return false;
    std::vector<tls::ticket_key> files;
    if (!try_read_key_files(cfg, files, error)) return false;
    auto contexts = std::make_unique<tls::listener_contexts>();
    tls::warnings warned;
    if (!try_build_contexts(cfg, keys_.get(), *contexts, error, warned)) return false;
    for (const auto& w : warned) FF_LOG_WARN("%s", w.c_str());
    // Only now, with the generation certain to start, does the ring change.
    if (!files.empty()) {
        (void)keys_->set(files);
        generated_ = false;
        rotation_ms_ = 0;
    } else {
        if (!generated_) {
            auto k = tls::generate_ticket_key();
            if (!k) {
                error = "RAND_bytes failed: cannot make a session ticket key";
                return false;
            }
            (void)keys_->set({*k});
            generated_ = true;
            next_rotation_ms_ = 0;
        }
        const auto every = static_cast<std::uint64_t>(cfg.tls.ticket_key_rotation.count());
        if (every != rotation_ms_ || next_rotation_ms_ == 0) next_rotation_ms_ = shm::monotonic_ms() + every;
        rotation_ms_ = every;
    }
    generations_[generation] = std::move(contexts);
    return true;
}

const tls::listener_contexts* tls_runtime::contexts(std::uint64_t generation) const noexcept {
    auto it = generations_.find(generation);
    return it == generations_.end() ? nullptr : it->second.get();
}

void tls_runtime::keep_only(std::uint64_t keep) noexcept {
    for (auto it = generations_.begin(); it != generations_.end();)
        it = it->first == keep ? std::next(it) : generations_.erase(it);
}

void tls_runtime::tick(std::uint64_t now_ms) noexcept {
    if (!keys_ || !generated_ || rotation_ms_ == 0 || now_ms < next_rotation_ms_) return;
    auto k = tls::generate_ticket_key();
    if (!k) {
        FF_LOG_ERROR("RAND_bytes failed: session ticket key not rotated");
        next_rotation_ms_ = now_ms + 1000;
        return;
    }
    keys_->rotate(*k);
    next_rotation_ms_ = now_ms + rotation_ms_;
    FF_LOG_INFO("session ticket key rotation %llu", static_cast<unsigned long long>(keys_->rotations()));
}

}  // namespace fastfork::master
