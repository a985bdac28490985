#include "handlers/file_server.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <stdexcept>

#include "handlers/compression.hpp"
#include "http/conditional.hpp"
#include "http/content_coding.hpp"
#include "http/date.hpp"
#include "http/field.hpp"
#include "http/method.hpp"
#include "http/mime.hpp"
#include "http/range.hpp"
#include "http/rfc9110.hpp"
#include "http/static_file.hpp"
#include "http/status.hpp"
#include "shm/clock.hpp"
#include "worker/log.hpp"

namespace fastfork::handlers {

/// One cache entry: what a root-relative path was when last looked at. Heap-allocated; `key`
/// never changes, so the index may key on a view of it.
struct file_server::entry {
    enum class kind_t : std::uint8_t { missing, forbidden, directory, file };

    /// One file on disk: the original, or its .gz / .br sibling.
    struct variant {
        bool present = false;
        int fd = -1;  // open when size > small_file_max, else -1 and `content` holds it
        std::uint64_t size = 0;
        std::int64_t mtime = 0;  // seconds since the epoch
        std::int64_t mtime_nsec = 0;
        std::uint64_t ino = 0;  // with dev, mtime and size: "the same file version" across reloads
        std::uint64_t dev = 0;
        std::string content;
        char etag[http::max_etag_size] = {};
        std::uint8_t etag_len = 0;
        char last_modified[32] = {};
        std::uint8_t last_modified_len = 0;

        [[nodiscard]] std::string_view etag_view() const noexcept { return {etag, etag_len}; }
        [[nodiscard]] std::string_view last_modified_view() const noexcept {
            return {last_modified, last_modified_len};
        }
    };

    /// The original's gzip form made on the fly, for a file without a .gz sibling. It belongs to
    /// the entry, so it goes when the entry goes (stale after the TTL, evicted): a file changed
    /// on disk is compressed again, an unchanged one hands its bytes to the entry that replaces
    /// this one (the bytes are shared, never copied).
    enum class gzip_t : std::uint8_t {
        off,          // not eligible: gzip off, a type that does not compress, too small or large, a sibling
        pending,      // eligible, not compressed yet: the first request that wants gzip does it
        compressing,  // a request's job is running; others meanwhile get the original
        ready,        // gzip_bytes hold it
        useless,      // compressed once and not smaller (or unreadable): this version is sent as it is
    };

    std::string key;  // root-relative path, "" = the root
    kind_t kind = kind_t::missing;
    std::string_view mime;  // the original's media type (static storage), found once per load
    variant files[3];       // indexed by http::content_coding: identity, gzip, br
    gzip_t gzip = gzip_t::off;
    std::shared_ptr<const std::string> gzip_bytes;  // set when gzip == ready
    char gzip_etag[http::max_etag_size] = {};       // the original's tag with "-gzip"
    std::uint8_t gzip_etag_len = 0;
    bool gzip_counted = false;     // gzip_bytes count towards the owner's gzip_cache_budget
    std::uint64_t loaded_ns = 0;   // shm::monotonic_ns() when read from disk
    unsigned pins = 0;             // requests using it, and responses sending from it
    bool retired = false;          // out of the index (stale or evicted); freed at the last unpin
    file_server* owner = nullptr;  // nullptr once the server is gone (a response still pins it)
    entry* prev = nullptr;         // LRU list, towards the head (most recent)
    entry* next = nullptr;

    ~entry() {
        for (auto& v : files)
            if (v.fd >= 0) ::close(v.fd);
    }
};

namespace {

using kind_t = file_server::entry::kind_t;
constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::string_view text_html = "text/html; charset=utf-8";
constexpr std::string_view index_name = "index.html";
constexpr std::size_t stack_path_buffer = 4096;  // request paths longer than this use the heap
constexpr std::size_t max_listing_entries = 10'000;

void answer_status(http::request_ctx& ctx, unsigned status) {
    ctx.set_status(status);
    ctx.set_content_type(text_plain);
    ctx.set_body_static(http::status_body(status));
}

// nginx's answer to a directory named without its slash: relative links inside index.html only
// resolve against a URL that ends in '/'.
void redirect_with_slash(http::request_ctx& ctx) {
    std::string_view path = ctx.path();
    // "//host/dir" would be a protocol-relative Location pointing at another host (an open
    // redirect): keep a single leading slash.
    while (path.size() >= 2 && path[0] == '/' && path[1] == '/') path.remove_prefix(1);
    std::string location;
    location.reserve(path.size() + 2 + ctx.query_string().size());
    location += path;
    location += '/';
    if (!ctx.query_string().empty()) {
        location += '?';
        location += ctx.query_string();
    }
    ctx.set_status(301);
    ctx.add_header("Location", location);
    ctx.set_content_type(text_plain);
    ctx.set_body_static("301 Moved Permanently\n");
}

}  // namespace

// ---------------------------------------------------------------- loading (on a pool thread)

/// Fills a fresh entry from the disk. run() executes on libuv's thread pool: it reads only the
/// server's immutable settings (root_fd_, root_real_, follow_symlinks_, precompressed_, gzip_*) and
/// writes only its own entry, which no other code sees until the job is done.
struct file_server::load_job {
    const file_server* fs;
    file_server::entry* e;

    // Whether the open file's real path is under the root. /proc/self/fd names what was really
    // opened, so a symlink swapped in after the open cannot fool the check; without /proc, fall
    // back to realpath() of the name (racy against a concurrent rename, but still checked).
    bool is_beneath_root(int fd, const char* rel) const noexcept {
        char link[40];
        std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        char real[PATH_MAX];
        std::string_view path;
        const ssize_t n = ::readlink(link, real, sizeof real);
        std::unique_ptr<char, decltype(&std::free)> fallback(nullptr, &std::free);
        if (n > 0 && static_cast<std::size_t>(n) < sizeof real) {
            path = std::string_view(real, static_cast<std::size_t>(n));
        } else {
            std::string full;
            try {
                full = fs->root_real_ + "/" + rel;
            } catch (...) {
                return false;
            }
            fallback.reset(::realpath(full.c_str(), nullptr));
            if (!fallback) return false;
            path = fallback.get();
        }
        const std::string_view root = fs->root_real_;
        if (root == "/") return true;
        return path.starts_with(root) && (path.size() == root.size() || path[root.size()] == '/');
    }

    // Opens root-relative `rel` ("" = the root) for reading and stats it; -1 with `why` when it
    // is missing or refused. O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
    // refused as not a regular file); it has no effect on regular files and directories.
    int open_beneath(const char* rel, struct stat& st, kind_t& why) const noexcept {
        const int fd = ::openat(fs->root_fd_, *rel ? rel : ".", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
            why = errno == EACCES || errno == EPERM ? kind_t::forbidden : kind_t::missing;
            return -1;
        }
        if (::fstat(fd, &st) != 0) {
            ::close(fd);
            why = kind_t::missing;
            return -1;
        }
        if (!fs->follow_symlinks_ && !is_beneath_root(fd, rel)) {
            ::close(fd);
            why = kind_t::forbidden;
            return -1;
        }
        return fd;
    }

    static void fill(file_server::entry::variant& v, int fd, const struct stat& st, std::string_view tag) noexcept {
        v.present = true;
        v.size = static_cast<std::uint64_t>(st.st_size);
        v.mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec);
        v.mtime_nsec = static_cast<std::int64_t>(st.st_mtim.tv_nsec);
        v.ino = static_cast<std::uint64_t>(st.st_ino);
        v.dev = static_cast<std::uint64_t>(st.st_dev);
        v.fd = fd;
        if (v.size <= file_server::small_file_max) {
            // Small: read it whole now, so a hit costs no system call and holds no descriptor.
            try {
                v.content.resize(v.size);
                std::size_t got = 0;
                while (got < v.size) {
                    const ssize_t n = ::pread(fd, v.content.data() + got, v.size - got, static_cast<off_t>(got));
                    if (n < 0 && errno == EINTR) continue;
                    if (n < 0) throw std::runtime_error("pread");
                    if (n == 0) break;  // shrank since the fstat: serve what is there
                    got += static_cast<std::size_t>(n);
                }
                v.content.resize(got);
                v.size = got;
                ::close(fd);
                v.fd = -1;
            } catch (...) {
                v.content.clear();  // keep the descriptor and send with sendfile instead
                v.content.shrink_to_fit();
            }
        }
        const std::string_view etag = http::format_etag(v.mtime, v.size, tag, v.etag);
        v.etag_len = static_cast<std::uint8_t>(etag.size());
        const std::string_view lm = http::format_http_date(static_cast<std::time_t>(v.mtime), v.last_modified);
        v.last_modified_len = static_cast<std::uint8_t>(lm.size());
    }

    void run() noexcept {
        struct stat st {};
        kind_t why = kind_t::missing;
        const int fd = open_beneath(e->key.c_str(), st, why);
        if (fd < 0) {
            e->kind = why;
            return;
        }
        if (S_ISDIR(st.st_mode)) {
            ::close(fd);
            e->kind = kind_t::directory;
            return;
        }
        if (!S_ISREG(st.st_mode)) {  // FIFO, socket, device: never served
            ::close(fd);
            e->kind = kind_t::forbidden;
            return;
        }
        e->kind = kind_t::file;
        e->mime = http::mime_type_for_path(e->key);
        fill(e->files[static_cast<int>(http::content_coding::identity)], fd, st, {});
        if (fs->precompressed_) load_siblings(st);
        const file_server::entry::variant& original = e->files[static_cast<int>(http::content_coding::identity)];
        // A .gz sibling wins over compressing: it is usually smaller (made offline at -9) and costs nothing.
        if (fs->gzip_ && !e->files[static_cast<int>(http::content_coding::gzip)].present && original.size > 0 &&
            original.size >= fs->gzip_min_length_ && original.size <= file_server::gzip_max_size &&
            compressor::is_compressible_type(e->mime))
            e->gzip = file_server::entry::gzip_t::pending;
    }

    void load_siblings(const struct stat& st) noexcept {
        constexpr struct {
            http::content_coding coding;
            std::string_view suffix;
        } siblings[] = {{http::content_coding::gzip, ".gz"}, {http::content_coding::br, ".br"}};
        for (const auto& s : siblings) {
            std::string name;
            try {
                name = e->key + std::string(s.suffix);
            } catch (...) {
                return;
            }
            struct stat sst {};
            kind_t ignored;
            const int sfd = open_beneath(name.c_str(), sst, ignored);
            if (sfd < 0) continue;
            // A sibling older than the original is stale (the original was edited since it was
            // compressed): serving it would send old content.
            if (!S_ISREG(sst.st_mode) || sst.st_mtim.tv_sec < st.st_mtim.tv_sec) {
                ::close(sfd);
                continue;
            }
            fill(e->files[static_cast<int>(s.coding)], sfd, sst, http::coding_name(s.coding));
        }
    }
};

/// Compresses an entry's original on a pool thread. The entry is pinned by the request, and the
/// original is never written after loading: the job reads it while the loop serves other
/// requests from it (pread and sendfile do not move the file offset).
struct file_server::gzip_job {
    const file_server::entry::variant* original;
    int level;
    std::string out;
    bool ok = false;

    void run() noexcept {
        if (original->fd < 0) {
            ok = compressor::try_gzip_once(original->content, level, out);
            return;
        }
        std::string in;
        try {
            in.resize(original->size);
        } catch (...) {
            return;
        }
        std::size_t got = 0;
        while (got < in.size()) {
            const ssize_t n = ::pread(original->fd, in.data() + got, in.size() - got, static_cast<off_t>(got));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        // A file that changed size since its fstat is mid-rewrite: its next version (a new
        // mtime, so a new entry) gets compressed instead of a torn copy of this one.
        if (got != in.size()) return;
        ok = compressor::try_gzip_once(in, level, out);
    }
};

/// Lists a directory on a pool thread (autoindex).
struct file_server::listing_job {
    const file_server* fs;
    std::string rel;
    struct item {
        std::string name;
        bool dir = false;
        std::uint64_t size = 0;
        std::int64_t mtime = 0;
    };
    std::vector<item> items;
    bool ok = false;

    void run() noexcept {
        const int dfd = ::openat(fs->root_fd_, rel.empty() ? "." : rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return;
        DIR* d = ::fdopendir(dfd);
        if (!d) {
            ::close(dfd);
            return;
        }
        try {
            while (dirent* de = ::readdir(d)) {
                // Hidden files stay hidden (nginx's autoindex does the same); "." and ".." too.
                if (de->d_name[0] == '.') continue;
                if (items.size() >= max_listing_entries) break;
                struct stat st {};
                if (::fstatat(dfd, de->d_name, &st, 0) != 0) continue;  // a dangling symlink
                items.push_back({de->d_name, S_ISDIR(st.st_mode), static_cast<std::uint64_t>(st.st_size),
                                 static_cast<std::int64_t>(st.st_mtim.tv_sec)});
            }
            ok = true;
        } catch (...) {
            items.clear();
        }
        ::closedir(d);
    }
};

/// Unpins an entry at scope exit: entries in use by a request survive eviction and revalidation
/// that other fibers cause while this one is suspended.
struct file_server::entry_pin {
    file_server* fs;
    file_server::entry* e;
    entry_pin(file_server* server, file_server::entry* pinned) noexcept : fs(server), e(pinned) {}
    entry_pin(const entry_pin&) = delete;
    entry_pin& operator=(const entry_pin&) = delete;
    ~entry_pin() { fs->unpin(e); }
};

// ---------------------------------------------------------------- file_server

std::string default_document_root(const options& opts) {
    if (!opts.root.empty()) return opts.root;
    struct stat st {};
    if (::stat("public", &st) == 0 && S_ISDIR(st.st_mode)) return "public";
    return {};
}

file_server::file_server(std::string root, const options& opts)
    : root_(std::move(root)),
      autoindex_(opts.autoindex),
      follow_symlinks_(opts.follow_symlinks),
      precompressed_(opts.precompressed),
      capacity_(opts.open_file_cache_size),
      ttl_ns_(static_cast<std::uint64_t>(
          std::max<std::int64_t>(std::chrono::nanoseconds(opts.open_file_cache_ttl).count(), 0))),
      gzip_(opts.gzip),
      gzip_level_(opts.gzip_level),
      gzip_min_length_(opts.gzip_min_length),
      gzip_budget_(opts.gzip_cache_budget) {
    root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0) throw std::runtime_error("document root \"" + root_ + "\": open failed: " + std::strerror(errno));
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(root_.c_str(), nullptr), &std::free);
    if (!real) {
        const int err = errno;
        ::close(root_fd_);
        throw std::runtime_error("document root \"" + root_ + "\": realpath failed: " + std::strerror(err));
    }
    root_real_ = real.get();
    index_.reserve(std::min<std::size_t>(capacity_, 4096) + 1);
    FF_LOG_DEBUG("serving files from %s", root_real_.c_str());
}

file_server::~file_server() {
    // A response that still pins an entry frees it itself (owner == nullptr) at its reset.
    auto drop = [](entry* e) {
        if (e->pins > 0)
            e->owner = nullptr;
        else
            delete e;
    };
    for (auto& kv : index_) drop(kv.second);
    for (entry* e : retired_) drop(e);
    if (root_fd_ >= 0) ::close(root_fd_);
}

bool file_server::is_fresh(const entry* e) const noexcept {
    return shm::monotonic_ns() - e->loaded_ns < ttl_ns_;
}

void file_server::touch(entry* e) noexcept {
    if (lru_head_ == e) return;
    // Unlink, then push at the head.
    if (e->prev) e->prev->next = e->next;
    if (e->next) e->next->prev = e->prev;
    if (lru_tail_ == e) lru_tail_ = e->prev;
    e->prev = nullptr;
    e->next = lru_head_;
    if (lru_head_) lru_head_->prev = e;
    lru_head_ = e;
    if (!lru_tail_) lru_tail_ = e;
}

void file_server::retire(entry* e) noexcept {
    index_.erase(std::string_view(e->key));
    if (e->gzip_counted) {
        gzip_bytes_ -= e->gzip_bytes->size();
        e->gzip_counted = false;
    }
    if (e->prev) e->prev->next = e->next;
    if (e->next) e->next->prev = e->prev;
    if (lru_head_ == e) lru_head_ = e->next;
    if (lru_tail_ == e) lru_tail_ = e->prev;
    e->prev = e->next = nullptr;
    e->retired = true;
    if (e->pins == 0) {
        delete e;
        return;
    }
    try {
        retired_.push_back(e);
    } catch (const std::bad_alloc&) {
        e->owner = nullptr;  // untracked: the last unpin frees it without us
    }
}

void file_server::unpin(entry* e) noexcept {
    FF_ASSERT(e->pins > 0);
    if (--e->pins > 0 || !e->retired) return;
    if (auto it = std::find(retired_.begin(), retired_.end(), e); it != retired_.end()) retired_.erase(it);
    delete e;
}

void file_server::release_pin(void* p) noexcept {
    auto* e = static_cast<entry*>(p);
    if (e->owner) {
        e->owner->unpin(e);
    } else if (--e->pins == 0) {
        delete e;
    }
}

namespace {

// The same file version: what a strong ETag promises, checked more strictly (nanoseconds and the
// inode, so an edit within the same second or a file renamed over it is not taken for the old).
bool is_same_version(const file_server::entry::variant& a, const file_server::entry::variant& b) noexcept {
    return a.present && b.present && a.size == b.size && a.mtime == b.mtime && a.mtime_nsec == b.mtime_nsec &&
           a.ino == b.ino && a.dev == b.dev;
}

// A reload of an unchanged file keeps what compressing it found: its gzip bytes (shared) or that
// it does not shrink. Without this, every TTL would compress every hot file again.
void inherit_gzip(file_server::entry& fresh, const file_server::entry& old) noexcept {
    using gzip_t = file_server::entry::gzip_t;
    if (fresh.gzip != gzip_t::pending || (old.gzip != gzip_t::ready && old.gzip != gzip_t::useless)) return;
    if (!is_same_version(fresh.files[0], old.files[0])) return;
    fresh.gzip = old.gzip;
    fresh.gzip_bytes = old.gzip_bytes;
    std::memcpy(fresh.gzip_etag, old.gzip_etag, sizeof fresh.gzip_etag);
    fresh.gzip_etag_len = old.gzip_etag_len;
}

}  // namespace

void file_server::count_gzip(entry* e) noexcept {
    if (e->gzip != entry::gzip_t::ready || e->gzip_counted || e->retired || !e->owner) return;
    gzip_bytes_ += e->gzip_bytes->size();
    e->gzip_counted = true;
    trim_gzip(e);
}

void file_server::trim_gzip(const entry* keep) noexcept {
    // From the cold end, evict entries holding gzip bytes until the budget holds again. `keep`
    // (just compressed) stays, even alone over a tiny budget: it is at most gzip_max_size.
    for (entry* it = lru_tail_; it && gzip_bytes_ > gzip_budget_;) {
        entry* warmer = it->prev;
        if (it != keep && it->gzip_counted) retire(it);
        it = warmer;
    }
}

file_server::entry* file_server::insert(entry* fresh) noexcept {
    if (auto it = index_.find(std::string_view(fresh->key)); it != index_.end()) {
        entry* current = it->second;
        if (is_fresh(current)) {
            // Another fiber loaded the same path while this one waited: keep one copy.
            delete fresh;
            ++current->pins;
            touch(current);
            return current;
        }
        inherit_gzip(*fresh, *current);
        retire(current);
    }
    ++fresh->pins;  // before eviction: with capacity 0 the fresh entry itself is evicted at once
    try {
        index_.emplace(std::string_view(fresh->key), fresh);
    } catch (const std::bad_alloc&) {
        fresh->retired = true;  // serve this request from it, uncached
        fresh->owner = nullptr;
        return fresh;
    }
    touch(fresh);
    while (index_.size() > capacity_ && lru_tail_) retire(lru_tail_);
    count_gzip(fresh);
    return fresh;
}

file_server::entry* file_server::lookup(http::request_ctx& ctx, std::string_view key) {
    if (auto it = index_.find(key); it != index_.end() && is_fresh(it->second)) {
        entry* e = it->second;
        ++e->pins;
        touch(e);
        return e;
    }
    auto fresh = std::make_unique<entry>();
    fresh->key = key;
    fresh->owner = this;
    load_job job{this, fresh.get()};
    ctx.run_blocking([&job] { job.run(); });
    fresh->loaded_ns = shm::monotonic_ns();
    return insert(fresh.release());
}

bool file_server::try_serve(http::request_ctx& ctx, std::string_view rest) {
    if (ctx.method() != http::method::get && ctx.method() != http::method::head) {
        ctx.set_status(405);
        ctx.add_trusted_header("Allow", "GET, HEAD");
        ctx.set_content_type(text_plain);
        ctx.set_body_static(http::status_body(405));
        return true;
    }
    if (rest.empty()) {  // the mount point itself ("/static" under "/static/")
        redirect_with_slash(ctx);
        return true;
    }
    // Decoded paths are never longer than the request's, plus room for "/index.html".
    char stack_buffer[stack_path_buffer + 16];
    std::string heap_buffer;
    char* buffer = stack_buffer;
    if (rest.size() > stack_path_buffer) {
        heap_buffer.resize(rest.size() + 16);
        buffer = heap_buffer.data();
    }
    const http::resolved_path rp = http::resolve_request_path(rest, buffer);
    if (rp.status == 404) return false;
    if (rp.status != 0) {
        answer_status(ctx, rp.status);
        return true;
    }
    const std::string_view rel = rp.relative;  // views the start of `buffer`
    entry_pin pin(this, lookup(ctx, rel));
    switch (pin.e->kind) {
        case kind_t::missing:
            return false;
        case kind_t::forbidden:
            answer_status(ctx, 403);
            return true;
        case kind_t::file:
            if (rp.trailing_slash) return false;  // "/a.txt/" names a directory that is not there
            return answer_file(ctx, pin.e);
        case kind_t::directory:
            break;
    }
    if (!rp.trailing_slash) {
        redirect_with_slash(ctx);
        return true;
    }
    // "<rel>/index.html", written after `rel` in the same buffer.
    std::size_t n = rel.size();
    if (n != 0) buffer[n++] = '/';
    std::memcpy(buffer + n, index_name.data(), index_name.size());
    n += index_name.size();
    entry_pin index_pin(this, lookup(ctx, std::string_view(buffer, n)));
    if (index_pin.e->kind == kind_t::file) return answer_file(ctx, index_pin.e);
    if (index_pin.e->kind == kind_t::missing && autoindex_) {
        answer_listing(ctx, rel);
        return true;
    }
    answer_status(ctx, 403);  // nginx: a directory without an index is forbidden
    return true;
}

void file_server::serve(http::request_ctx& ctx, std::string_view rest) {
    if (!try_serve(ctx, rest)) answer_status(ctx, 404);
}

bool file_server::try_gzip_on_the_fly(http::request_ctx& ctx, entry* e) {
    using gzip_t = entry::gzip_t;
    if (e->gzip == gzip_t::ready) {
        ++gzip_hits_;
        return true;
    }
    // Compressing: another fiber's job is running; this client gets the original rather than
    // a second job for the same bytes.
    if (e->gzip != gzip_t::pending) return false;
    e->gzip = gzip_t::compressing;
    gzip_job job{&e->files[static_cast<int>(http::content_coding::identity)], gzip_level_, {}, false};
    try {
        // Up to gzip_max_size of deflate takes milliseconds: on the loop it would stall every
        // connection of the worker, so it runs on the thread pool like the disk access.
        ctx.run_blocking([&job] { job.run(); });
    } catch (...) {  // the fiber is unwound (forced_unwind): let the next request try again
        e->gzip = gzip_t::pending;
        throw;
    }
    ++gzip_compressions_;
    if (!job.ok) {
        e->gzip = gzip_t::useless;
        return false;
    }
    try {
        e->gzip_bytes = std::make_shared<const std::string>(std::move(job.out));
    } catch (const std::bad_alloc&) {
        e->gzip = gzip_t::pending;
        return false;
    }
    const entry::variant& original = e->files[static_cast<int>(http::content_coding::identity)];
    const std::string_view etag =
        http::format_etag(original.mtime, original.size, http::coding_name(http::content_coding::gzip), e->gzip_etag);
    e->gzip_etag_len = static_cast<std::uint8_t>(etag.size());
    e->gzip = gzip_t::ready;
    count_gzip(e);  // only while indexed: a retired entry's bytes go with this response
    return true;
}

bool file_server::answer_file(http::request_ctx& ctx, entry* e) {
    using http::content_coding;
    using http::field;
    const bool has_gzip = e->files[static_cast<int>(content_coding::gzip)].present;
    const bool has_br = e->files[static_cast<int>(content_coding::br)].present;
    const bool gzip_on_the_fly = !has_gzip && e->gzip != entry::gzip_t::off && e->gzip != entry::gzip_t::useless;
    const bool is_get = ctx.method() == http::method::get;
    content_coding coding = content_coding::identity;
    if (has_gzip || has_br || gzip_on_the_fly) {
        coding = http::choose_coding(ctx.header(field::accept_encoding), has_br, has_gzip || gzip_on_the_fly);
        // RFC 9110 §12.5.5: the choice depended on Accept-Encoding, whichever way it went.
        ctx.add_trusted_header("Vary", "Accept-Encoding");
    }
    // The representation to send: a file on disk (original or sibling), or the gzip bytes kept
    // in the entry. Ranges of the latter are not offered (RFC 9110 §14.2 lets a server ignore
    // Range): a client asking for a range wants offsets into the file, so it gets the original.
    bool from_gzip_bytes = false;
    if (coding == content_coding::gzip && !has_gzip) {
        const bool wants_range = is_get && !ctx.header(field::range).empty();
        from_gzip_bytes = !wants_range && try_gzip_on_the_fly(ctx, e);
        if (!from_gzip_bytes) coding = content_coding::identity;
    }
    // Gzip bytes made here stand for the original: its Last-Modified, its mtime for preconditions.
    const entry::variant& v = e->files[static_cast<int>(from_gzip_bytes ? content_coding::identity : coding)];
    const std::string_view etag = from_gzip_bytes ? std::string_view(e->gzip_etag, e->gzip_etag_len) : v.etag_view();
    const std::uint64_t size = from_gzip_bytes ? e->gzip_bytes->size() : v.size;
    ctx.add_trusted_header("ETag", etag);
    ctx.add_trusted_header("Last-Modified", v.last_modified_view());

    http::preconditions pre;
    pre.if_match = ctx.header(field::if_match);
    pre.if_none_match = ctx.header(field::if_none_match);
    pre.if_modified_since = ctx.header(field::if_modified_since);
    pre.if_unmodified_since = ctx.header(field::if_unmodified_since);
    pre.get_or_head = true;
    switch (http::evaluate_preconditions(pre, etag, static_cast<std::time_t>(v.mtime))) {
        case http::precondition_result::not_modified:
            ctx.set_status(304);
            return true;
        case http::precondition_result::failed:
            answer_status(ctx, 412);
            return true;
        case http::precondition_result::proceed:
            break;
    }

    http::range_result r{http::range_kind::full, 0, size};
    if (!from_gzip_bytes) {
        ctx.add_trusted_header("Accept-Ranges", "bytes");
        // RFC 9110 §14.2: GET is the only method with defined range handling.
        if (const std::string_view range = ctx.header(field::range); is_get && !range.empty())
            r = http::evaluate_range(range, ctx.header(field::if_range), etag, static_cast<std::time_t>(v.mtime),
                                     v.size);
    }
    char content_range[http::max_content_range_size];
    if (r.kind == http::range_kind::unsatisfiable) {
        ctx.add_trusted_header("Content-Range", http::format_content_range(r, v.size, content_range));
        answer_status(ctx, 416);
        return true;
    }
    if (r.kind == http::range_kind::partial) {
        ctx.set_status(206);
        ctx.add_trusted_header("Content-Range", http::format_content_range(r, v.size, content_range));
    }
    if (coding != content_coding::identity) ctx.add_trusted_header("Content-Encoding", http::coding_name(coding));
    // The original's type, also for a sibling: a.css.gz is sent as text/css with Content-Encoding.
    ctx.set_content_type(e->mime);
    http::response& resp = ctx.response();
    if (from_gzip_bytes)
        resp.set_body_static(*e->gzip_bytes);
    else if (v.fd >= 0)
        resp.set_body_file(v.fd, r.offset, r.length);
    else
        resp.set_body_static(
            std::string_view(v.content).substr(static_cast<std::size_t>(r.offset), static_cast<std::size_t>(r.length)));
    // The body views the entry (its descriptor or its bytes) until the response is written.
    ++e->pins;
    resp.set_release_hook(&file_server::release_pin, e);
    return true;
}

void file_server::answer_listing(http::request_ctx& ctx, std::string_view rel) {
    listing_job job{this, std::string(rel), {}, false};
    ctx.run_blocking([&job] { job.run(); });
    if (!job.ok) {
        answer_status(ctx, 403);
        return;
    }
    std::sort(job.items.begin(), job.items.end(), [](const listing_job::item& a, const listing_job::item& b) {
        if (a.dir != b.dir) return a.dir;  // directories first
        return a.name < b.name;
    });
    // The title shows the URL path the client asked for, never where the files are on disk.
    std::string html;
    html.reserve(512 + job.items.size() * 160);
    html += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
    http::append_html_escaped(html, ctx.path());
    html +=
        "</title><style>body{font-family:sans-serif;margin:2em}td{padding:0 1em 0 0}"
        "td.s{text-align:right}</style></head>\n<body><h1>Index of ";
    http::append_html_escaped(html, ctx.path());
    html += "</h1>\n<table>\n<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n";
    if (ctx.path() != "/") html += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
    char date[32];
    char size[24];
    for (const auto& it : job.items) {
        html += "<tr><td><a href=\"";
        http::append_uri_escaped(html, it.name);
        if (it.dir) html += '/';
        html += "\">";
        http::append_html_escaped(html, it.name);
        if (it.dir) html += '/';
        html += "</a></td><td>";
        html += http::format_http_date(static_cast<std::time_t>(it.mtime), date);
        html += "</td><td class=\"s\">";
        if (it.dir) {
            html += '-';
        } else {
            html.append(size, static_cast<std::size_t>(http::put_decimal(size, it.size) - size));
        }
        html += "</td></tr>\n";
    }
    html += "</table>\n</body></html>\n";
    ctx.set_content_type(text_html);
    ctx.add_trusted_header("Cache-Control", "no-cache");
    ctx.set_body(html);
}

}  // namespace fastfork::handlers
