#include "master/preflight.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "master/tls_runtime.hpp"

namespace fastfork::master {

namespace {

// Why `path` could not be opened for appending as the processes open it (O_WRONLY | O_APPEND |
// O_CREAT); empty when it could. Nothing is created: for a missing file, the directory decides.
std::string why_not_appendable(const char* key, const std::string& path) {
    if (path.empty()) return {};
    const std::string where = std::string("key \"") + key + "\": \"" + path + "\": ";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) return where + "is a directory";
        // O_NONBLOCK: a FIFO without a reader must not block the check.
        int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 && errno != ENXIO) return where + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return {};
    }
    if (errno != ENOENT) return where + std::strerror(errno);
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0) return where + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return where + "\"" + dir + "\" is not a directory";
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        return where + "cannot be created in \"" + dir + "\": " + std::strerror(errno);
    return {};
}

}  // namespace

std::optional<config_error> check_files(const config& cfg) {
    for (const auto& [key, path] : {std::pair<const char*, const std::string*>{"error_log", &cfg.error_log},
                                    {"access_log", &cfg.handlers.access_log}})
        if (std::string why = why_not_appendable(key, *path); !why.empty()) return config_error{why};
    return std::nullopt;
}

std::optional<config_error> check_tls(const config& cfg, std::vector<std::string>& warnings) {
    if (!uses_tls(cfg)) return std::nullopt;
    std::string error;
    std::vector<tls::ticket_key> keys;
    if (!try_read_key_files(cfg, keys, error)) return config_error{error};
    tls::listener_contexts contexts;
    if (!try_build_contexts(cfg, nullptr, contexts, error, warnings)) return config_error{error};
    return std::nullopt;
}

}  // namespace fastfork::master
