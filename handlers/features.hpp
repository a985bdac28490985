#pragma once
// The features that every worker of `fastfork` (and of fastfork::serve) runs beside its handler
// (worker): gzip as a response filter and the access log as a request observer, plus the
// feature options of this process, which the router reads to build its table.

#include "handlers/access_log.hpp"
#include "handlers/compression.hpp"
#include "handlers/options.hpp"
#include "worker/server.hpp"

namespace fastfork::handlers {

class features {
public:
    /// Opens opts.access_log when set, tagging its lines with `worker_slot`. Throws
    /// std::runtime_error naming the file and the reason when it cannot: the worker cannot start.
    features(const options& opts, unsigned worker_slot);
    ~features();
    features(const features&) = delete;
    features& operator=(const features&) = delete;

    /// Plugs gzip and the access log into `srv` and makes these options the process's current
    /// ones. *this must outlive srv.run().
    void attach(worker::server& srv);

    /// The options of the features attached in this process; defaults when none are.
    [[nodiscard]] static const options& current() noexcept;

private:
    options opts_;
    compressor gzip_;
    access_logger access_log_;
    static inline const features* current_ = nullptr;
};

}  // namespace fastfork::handlers
