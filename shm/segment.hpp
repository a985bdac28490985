#pragma once
// The POSIX shared-memory segment /fastfork.<name> (master: create and unlink; workers:
// inherit the mapping through fork; fastforkctl: open read-only).

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "shm/layout.hpp"

namespace fastfork::shm {

class segment {
public:
    segment() noexcept = default;
    segment(segment&& o) noexcept;
    segment& operator=(segment&& o) noexcept;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment();

    /// Creates /fastfork.<name>, mode 0640, sized and initialized for `master_pid`. An existing
    /// one is replaced only if it is ours (owned by this euid, not group/other-writable) and
    /// stale (no master of it runs: is_master_of). Throws std::runtime_error naming the failed
    /// call, the owner of a foreign or untrusted segment, or the pid of a live master of it.
    [[nodiscard]] static segment create(std::string_view name, int master_pid);

    /// Maps /fastfork.<name> read-write to continue it after a binary upgrade (shm/adopt.cpp):
    /// the segment of `old_master`, which must be this process's parent and provably a master of
    /// it (why_not_handover), owned by this euid, not group/other-writable, and of this very
    /// layout version. Leaves the header as it is (the caller takes master_pid over once its
    /// workers are ready). Throws std::runtime_error saying which check failed.
    [[nodiscard]] static segment adopt(std::string_view name, long old_master);

    /// Maps /fastfork.<name> read-only (PROT_READ). Throws std::runtime_error when it is missing,
    /// not trusted (why_untrusted: another user's, or writable by others; the message names the
    /// owner), not a fastfork segment, or of another layout version (the message says which).
    [[nodiscard]] static segment open_readonly(std::string_view name);

    /// True when `pid` provably is a master of this segment (shm/trust.hpp is_master_of): the
    /// only pids fastforkctl signals. `why` says why not.
    [[nodiscard]] bool is_master(long pid, std::string& why) const;

    /// Removes the name (the master at exit); mappings stay valid until unmapped.
    void unlink() noexcept;

    [[nodiscard]] segment_layout* get() noexcept { return layout_; }
    [[nodiscard]] const segment_layout* get() const noexcept { return layout_; }
    [[nodiscard]] bool is_open() const noexcept { return layout_ != nullptr; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// The shm object name for an instance name: "/fastfork." + name.
    [[nodiscard]] static std::string object_name(std::string_view name);
    /// The file it is on Linux, as messages name it: "/dev/shm/fastfork." + name.
    [[nodiscard]] static std::string path(std::string_view name);

private:
    segment_layout* layout_ = nullptr;
    std::size_t size_ = 0;
    std::string name_;
    bool owner_ = false;
    struct stat st_ {};  // the object's owner, mode, device and inode when it was opened
};

/// The segment of the server instance this process belongs to, for readers inside the server
/// (a worker's /metrics and /stats routes). The master sets it right after segment::create();
/// its workers inherit it through fork, with the mapping. nullptr (and an empty name) when there
/// is none: fastforkctl, `fastfork --single-process`. The layout must outlive its use here: the
/// master clears it (nullptr) before unmapping.
void set_current_segment(const segment_layout* layout, std::string_view name);
[[nodiscard]] const segment_layout* current_segment() noexcept;
[[nodiscard]] const std::string& current_segment_name() noexcept;

/// True when `pid` names a live process (kill(pid, 0) succeeds or fails with EPERM).
[[nodiscard]] bool is_process_alive(long pid) noexcept;

}  // namespace fastfork::shm
