#pragma once
// Whether a stats segment and the master pid written in it may be believed (master at start,
// fastforkctl before it reads or signals): anyone can create /dev/shm/fastfork.<name> and write
// any pid into it, so a segment is trusted only for its owner's sake, and a pid is signalled
// only if it provably is a master of that very segment (issue 16.1).

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>

namespace fastfork::shm {

/// "uid 65534 (nobody)"; just "uid N" when the user database has no name for it.
[[nodiscard]] std::string describe_user(uid_t uid);

/// Empty when a segment with status `st` may be trusted by a process of effective uid
/// `caller`: it is owned by the caller or by root, and not writable by group or others.
/// Otherwise the reason, naming the owner (or the mode), for a one-line error after the path.
[[nodiscard]] std::string why_untrusted(const struct stat& st, uid_t caller);

/// True when `pid` is a live process whose real and effective uid are `st.st_uid` and which
/// has the object `st` describes (same device and inode) mapped from `path`, per
/// /proc/<pid>/status and /proc/<pid>/maps: a master (or worker) of that segment. A dead pid, a
/// zombie, a recycled pid and a process of another user all fail; `why` then says which.
/// Reading another user's maps needs ptrace access, which root and the owner have.
[[nodiscard]] bool is_master_of(long pid, const struct stat& st, std::string_view path, std::string& why);

/// Empty when this process may take over the segment `st` (at `path`) from `old_master` in a
/// binary upgrade: `old_master` is this process's parent (the master that forked and exec'd us)
/// and provably a master of this very segment (is_master_of). Otherwise why not. Any other
/// process that names a live master in the environment is refused: only the master itself hands
/// its segment over.
[[nodiscard]] std::string why_not_handover(long old_master, const struct stat& st, std::string_view path);

}  // namespace fastfork::shm
