// Taking over the stats segment in a binary upgrade (the new master): the old master execs the
// new binary, which continues the same segment so totals, restarts and reload history go on.
// Every check of segment::create applies, and one more: only our own parent may hand it over.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "shm/segment.hpp"
#include "shm/trust.hpp"

namespace fastfork::shm {

segment segment::adopt(std::string_view name, long old_master) {
    const std::string obj = object_name(name);
    const std::string file = path(name);
    int fd = ::shm_open(obj.c_str(), O_RDWR, 0);
    if (fd < 0) throw std::runtime_error("shm_open(" + file + ") failed: " + std::strerror(errno));
    auto fail = [&](const std::string& why) {
        ::close(fd);
        return std::runtime_error("cannot take over stats segment " + file + ": " + why);
    };
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw fail(std::string("fstat: ") + std::strerror(errno));
    if (st.st_uid != ::geteuid())
        throw fail("it belongs to " + describe_user(st.st_uid) + ", not to " + describe_user(::geteuid()));
    if (std::string why = why_untrusted(st, ::geteuid()); !why.empty()) throw fail("it " + why);
    if (static_cast<std::size_t>(st.st_size) != sizeof(segment_layout))
        throw fail("its size is " + std::to_string(st.st_size) + " bytes, this binary's layout version " +
                   std::to_string(layout_version) + " has " + std::to_string(sizeof(segment_layout)) +
                   ": a binary with another stats layout cannot continue it (stop and start instead)");
    if (std::string why = why_not_handover(old_master, st, file); !why.empty()) throw fail(why);
    void* p = ::mmap(nullptr, sizeof(segment_layout), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw fail(std::string("mmap: ") + std::strerror(errno));
    ::close(fd);
    auto* layout = static_cast<segment_layout*>(p);
    const auto& h = layout->header;
    std::string why;
    if (h.magic != segment_magic)
        why = "bad magic";
    else if (h.version != layout_version || h.size != sizeof(segment_layout))
        why = "stats layout version " + std::to_string(h.version) + ", this binary writes " +
              std::to_string(layout_version) + " (stop and start instead)";
    else if (h.master_pid.load() != old_master)
        why = "it names master " + std::to_string(h.master_pid.load()) + ", not " + std::to_string(old_master);
    if (!why.empty()) {
        ::munmap(p, sizeof(segment_layout));
        throw std::runtime_error("cannot take over stats segment " + file + ": " + why);
    }
    segment s;
    s.layout_ = layout;
    s.size_ = sizeof(segment_layout);
    s.name_ = std::string(name);
    s.owner_ = true;
    s.st_ = st;
    return s;
}

}  // namespace fastfork::shm
