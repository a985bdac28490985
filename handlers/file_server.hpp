#pragma once
// Static files from a document root (worker): safe path resolution (http/static_file.hpp),
// a per-worker cache of open files and metadata with a TTL, conditional and range requests,
// precompressed siblings, gzip made on the fly and kept in the cache, index.html and optional
// directory listings. Disk access runs on
// libuv's thread pool (ctx.run_blocking); a cache hit makes no system call.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "handlers/options.hpp"
#include "http/request_ctx.hpp"

namespace fastfork::handlers {

/// The document root `fastfork` serves at "/" when the config names none: opts.root when set,
/// else "public" when ./public is a directory, else "" (the welcome page). Checks the disk
/// (one stat) when opts.root is empty.
[[nodiscard]] std::string default_document_root(const options& opts);

/// Serves the files under one root directory. One per root per worker process; not thread-safe
/// (a worker is one thread). Must outlive every response it answered until that response is
/// written (responses pin the cache entries they send from).
class file_server {
public:
    /// Files larger than this are sent with sendfile(2) from the cached descriptor; smaller ones
    /// are read whole into the cache entry when it is loaded and copied into the response (one
    /// write for head and body, no descriptor kept open).
    static constexpr std::uint64_t small_file_max = 16 * 1024;
    /// Largest file gzipped on the fly (with `gzip` on, a compressible type, at least
    /// gzip_min_length bytes and no .gz sibling). Its gzip bytes are made once, on the thread
    /// pool, and kept in the cache entry; a larger file is sent as it is (give it a .gz sibling).
    static constexpr std::uint64_t gzip_max_size = 1024 * 1024;

    /// Opens `root` (a directory; relative to the working directory) and resolves its real path.
    /// Reads from `opts`: autoindex, follow_symlinks, precompressed, open_file_cache_size,
    /// open_file_cache_ttl, gzip, gzip_level, gzip_min_length, gzip_cache_budget (the most gzip
    /// bytes kept; past it the least recently used entries holding gzip bytes are evicted, which
    /// bounds the memory that open_file_cache_size alone would not). Blocks for two system calls (open, realpath): call
    /// it once per worker. Throws std::runtime_error naming `root` when it cannot be opened; the message is for logs
    /// only, never for a response.
    file_server(std::string root, const options& opts);
    ~file_server();
    file_server(const file_server&) = delete;
    file_server& operator=(const file_server&) = delete;

    /// Answers a GET or HEAD for `rest`: the request path below the mount point, still
    /// percent-encoded, "" (the mount point itself: redirected to add a slash) or starting with
    /// '/' (for a root mounted at "/", ctx.path()). Other methods get 405. Returns false, with
    /// ctx untouched, when there is no such file (or the path is refused as not found: NUL, %2F),
    /// so a router may answer 404 its own way; every other outcome (200, 206, 301, 304, 400, 403,
    /// 405, 412, 416) is answered and returns true. Runs on the request's fiber; suspends on a
    /// cache miss. Headers: Content-Type, ETag, Last-Modified, Accept-Ranges, and for files with
    /// a precompressed sibling or a gzip form made on the fly Vary: Accept-Encoding (plus
    /// Content-Encoding when one is sent; each coding has its own strong ETag, suffix "-gzip" or
    /// "-br"). A Range request is answered from the original or a precompressed sibling, never
    /// from the on-the-fly gzip form. No response names a file system path.
    bool try_serve(http::request_ctx& ctx, std::string_view rest);
    /// try_serve, then a plain 404.
    void serve(http::request_ctx& ctx, std::string_view rest);

    /// Entries in the open-file cache (tests).
    [[nodiscard]] std::size_t cached() const noexcept { return index_.size(); }
    /// On-the-fly gzip since construction: files compressed (thread-pool jobs, successful or
    /// not), responses sent from kept gzip bytes, and the gzip bytes the index holds now.
    [[nodiscard]] std::uint64_t gzip_compressions() const noexcept { return gzip_compressions_; }
    [[nodiscard]] std::uint64_t gzip_hits() const noexcept { return gzip_hits_; }
    [[nodiscard]] std::size_t gzip_cached_bytes() const noexcept { return gzip_bytes_; }

    struct entry;  // a cached lookup result; defined in file_server.cpp

private:
    entry* lookup(http::request_ctx& ctx, std::string_view key);
    entry* insert(entry* fresh) noexcept;
    void touch(entry* e) noexcept;
    void retire(entry* e) noexcept;
    void unpin(entry* e) noexcept;
    static void release_pin(void* e) noexcept;
    bool answer_file(http::request_ctx& ctx, entry* e);
    void answer_listing(http::request_ctx& ctx, std::string_view rel);
    [[nodiscard]] bool is_fresh(const entry* e) const noexcept;
    bool try_gzip_on_the_fly(http::request_ctx& ctx, entry* e);
    void count_gzip(entry* e) noexcept;
    void trim_gzip(const entry* keep) noexcept;
    struct gzip_job;     // compresses an entry's original on the thread pool
    struct load_job;     // fills an entry on the thread pool
    struct listing_job;  // reads a directory on the thread pool (autoindex)
    struct entry_pin;    // unpins at scope exit

    std::string root_;       // as configured (logs only)
    std::string root_real_;  // realpath(root): a served file's real path must start with it
    int root_fd_ = -1;
    bool autoindex_;
    bool follow_symlinks_;
    bool precompressed_;
    std::size_t capacity_;
    std::uint64_t ttl_ns_;  // open_file_cache_ttl
    bool gzip_;             // gzip on the fly (the `gzip` setting)
    int gzip_level_;
    std::size_t gzip_min_length_;
    std::size_t gzip_budget_;
    std::size_t gzip_bytes_ = 0;  // gzip bytes of indexed entries, at most gzip_budget_
    std::uint64_t gzip_compressions_ = 0;
    std::uint64_t gzip_hits_ = 0;
    std::unordered_map<std::string_view, entry*> index_;  // keys view entry::key
    entry* lru_head_ = nullptr;                           // most recently used
    entry* lru_tail_ = nullptr;
    std::vector<entry*> retired_;  // out of the index but still pinned by a response
};

}  // namespace fastfork::handlers
