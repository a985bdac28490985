#include "shm/segment.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include "shm/clock.hpp"
#include "shm/trust.hpp"

namespace fastfork::shm {

namespace {
std::runtime_error sys_error(const std::string& call, const std::string& arg) {
    return std::runtime_error(call + "(" + arg + ") failed: " + std::strerror(errno));
}
}  // namespace

namespace {
const segment_layout* current_layout = nullptr;
std::string& current_name() {
    static std::string name;  // a function-local static: no destructor-order surprises at exit
    return name;
}
}  // namespace

void set_current_segment(const segment_layout* layout, std::string_view name) {
    current_layout = layout;
    current_name() = layout ? std::string(name) : std::string();
}

const segment_layout* current_segment() noexcept {
    return current_layout;
}

const std::string& current_segment_name() noexcept {
    return current_name();
}

bool is_process_alive(long pid) noexcept {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string segment::object_name(std::string_view name) {
    return "/fastfork." + std::string(name);
}

std::string segment::path(std::string_view name) {
    // glibc's shm_open maps "/x" to /dev/shm/x.
    return "/dev/shm" + object_name(name);
}

bool segment::is_master(long pid, std::string& why) const {
    return is_master_of(pid, st_, path(name_), why);
}

segment::segment(segment&& o) noexcept
    : layout_(std::exchange(o.layout_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      name_(std::move(o.name_)),
      owner_(std::exchange(o.owner_, false)),
      st_(o.st_) {}

segment& segment::operator=(segment&& o) noexcept {
    if (this != &o) {
        if (layout_) ::munmap(layout_, size_);
        layout_ = std::exchange(o.layout_, nullptr);
        size_ = std::exchange(o.size_, 0);
        name_ = std::move(o.name_);
        owner_ = std::exchange(o.owner_, false);
        st_ = o.st_;
    }
    return *this;
}

segment::~segment() {
    if (layout_) ::munmap(layout_, size_);
}

segment segment::create(std::string_view name, int master_pid) {
    const std::string obj = object_name(name);
    const std::string file = path(name);
    // Anyone may create this name in /dev/shm. A segment left by one of our masters that died
    // without cleaning up is stale: replace it. Another user's, or one others could have written,
    // is not ours to trust or to remove; one a live master maps is a second instance with this
    // name, which must not share it.
    if (int fd = ::shm_open(obj.c_str(), O_RDONLY, 0); fd >= 0) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            auto e = sys_error("fstat", file);
            ::close(fd);
            throw e;
        }
        const uid_t me = ::geteuid();
        if (st.st_uid != me) {
            ::close(fd);
            throw std::runtime_error("stats segment " + file + " belongs to " + describe_user(st.st_uid) + ", not to " +
                                     describe_user(me) + ": not using or replacing it; remove it (as that user or root) or set a different \"name\" for this instance");
        }
        if (std::string why = why_untrusted(st, me); !why.empty()) {
            ::close(fd);
            throw std::runtime_error("stats segment " + file + " " + why + "; remove it or set a different \"name\"");
        }
        if (static_cast<std::size_t>(st.st_size) >= sizeof(segment_header)) {
            void* p = ::mmap(nullptr, sizeof(segment_header), PROT_READ, MAP_SHARED, fd, 0);
            if (p != MAP_FAILED) {
                const auto* h = static_cast<const segment_header*>(p);
                long pid = h->magic == segment_magic ? static_cast<long>(h->master_pid.load()) : 0;
                ::munmap(p, sizeof(segment_header));
                std::string why;
                if (pid != master_pid && is_master_of(pid, st, file, why)) {
                    ::close(fd);
                    throw std::runtime_error("stats segment " + file + " belongs to a running master (pid " +
                                             std::to_string(pid) + "); set a different \"name\"");
                }
            }
        }
        ::close(fd);
        ::shm_unlink(obj.c_str());
    } else if (errno != ENOENT) {
        // Unreadable (another user's 0600 segment): name its owner rather than fail on EEXIST.
        const int err = errno;
        if (struct stat st {}; ::lstat(file.c_str(), &st) == 0 && st.st_uid != ::geteuid())
            throw std::runtime_error("stats segment " + file + " belongs to " + describe_user(st.st_uid) +
                                     ", not to " + describe_user(::geteuid()) +
                                     ": not using or replacing it; remove it (as that user or root) or set a different \"name\" for this instance");
        errno = err;
        throw sys_error("shm_open", file);
    }
    int fd = ::shm_open(obj.c_str(), O_RDWR | O_CREAT | O_EXCL, 0640);
    if (fd < 0) throw sys_error("shm_open", file);
    // shm_open applies the umask; the documented mode is 0640 whatever the umask.
    ::fchmod(fd, 0640);
    struct stat st {};
    ::fstat(fd, &st);
    const std::size_t size = sizeof(segment_layout);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        auto e = sys_error("ftruncate", file);
        ::close(fd);
        ::shm_unlink(obj.c_str());
        throw e;
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        auto e = sys_error("mmap", file + ", " + std::to_string(size) + " bytes, PROT_READ|PROT_WRITE, MAP_SHARED");
        ::shm_unlink(obj.c_str());
        throw e;
    }
    // ftruncate zero-fills, and zero is every atomic's initial value here; placement-new
    // starts the objects' lifetimes without touching the (sparse) slot pages.
    auto* layout = static_cast<segment_layout*>(p);
    auto& h = layout->header;
    h.magic = segment_magic;
    h.version = layout_version;
    h.capacity = static_cast<std::uint32_t>(slot_capacity);
    h.size = size;
    h.master_pid.store(master_pid);
    h.start_time_ms.store(realtime_ms());
    h.reload_ok.store(-1);
    segment s;
    s.layout_ = layout;
    s.size_ = size;
    s.name_ = std::string(name);
    s.owner_ = true;
    s.st_ = st;
    return s;
}

segment segment::open_readonly(std::string_view name) {
    const std::string obj = object_name(name);
    const std::string file = path(name);
    int fd = ::shm_open(obj.c_str(), O_RDONLY, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            throw std::runtime_error("no fastfork instance named \"" + std::string(name) + "\" (" + file +
                                     " does not exist)");
        throw sys_error("shm_open", file);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        auto e = sys_error("fstat", file);
        ::close(fd);
        throw e;
    }
    if (std::string why = why_untrusted(st, ::geteuid()); !why.empty()) {
        ::close(fd);
        throw std::runtime_error(file + " " + why);
    }
    auto size = static_cast<std::size_t>(st.st_size);
    if (size < sizeof(segment_header)) {
        ::close(fd);
        throw std::runtime_error(file + " is too small to be a fastfork stats segment");
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw sys_error("mmap", file + ", PROT_READ");
    const auto* h = static_cast<const segment_header*>(p);
    if (h->magic != segment_magic) {
        ::munmap(p, size);
        throw std::runtime_error(file + " is not a fastfork stats segment (bad magic)");
    }
    if (h->version != layout_version || h->size != sizeof(segment_layout) || size < sizeof(segment_layout)) {
        std::string msg = file + " has stats layout version " + std::to_string(h->version) + " (" +
                          std::to_string(h->size) + " bytes); this fastforkctl reads version " +
                          std::to_string(layout_version) + " (" + std::to_string(sizeof(segment_layout)) +
                          " bytes): use the fastforkctl built with that server";
        ::munmap(p, size);
        throw std::runtime_error(msg);
    }
    segment s;
    s.layout_ = static_cast<segment_layout*>(p);
    s.size_ = size;
    s.name_ = std::string(name);
    s.st_ = st;
    return s;
}

void segment::unlink() noexcept {
    if (!name_.empty()) ::shm_unlink(object_name(name_).c_str());
}

}  // namespace fastfork::shm
