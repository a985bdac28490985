#include "master/reuseport_steering.hpp"

#include <linux/bpf.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "worker/log.hpp"

namespace fastfork::master {

namespace {

// Worker indexes the healthy list and each socket array can hold; beyond it nothing is steered.
constexpr std::uint32_t max_indexes = 1024;

// The healthy list's one element: how many indexes are healthy, then those indexes.
struct healthy_list {
    std::uint32_t count;
    std::uint32_t index[max_indexes];
};

long sys_bpf(int cmd, bpf_attr& attr) noexcept {
    return ::syscall(__NR_bpf, cmd, &attr, sizeof attr);
}

int create_map(std::uint32_t type, std::uint32_t key_size, std::uint32_t value_size, std::uint32_t entries) noexcept {
    bpf_attr attr{};
    attr.map_type = type;
    attr.key_size = key_size;
    attr.value_size = value_size;
    attr.max_entries = entries;
    return static_cast<int>(sys_bpf(BPF_MAP_CREATE, attr));
}

bool update_elem(int map, const void* key, const void* value) noexcept {
    bpf_attr attr{};
    attr.map_fd = static_cast<std::uint32_t>(map);
    attr.key = reinterpret_cast<std::uint64_t>(key);
    attr.value = reinterpret_cast<std::uint64_t>(value);
    attr.flags = BPF_ANY;
    return sys_bpf(BPF_MAP_UPDATE_ELEM, attr) == 0;
}

// Hand-assembled instructions (no libbpf): just the forms the program below needs.
constexpr bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
constexpr bpf_insn mov_reg(int dst, int src) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn mov_imm(int dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn add_imm(int dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn add_reg(int dst, int src) {
    return insn(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn lsh_imm(int dst, std::int32_t imm) {
    return insn(BPF_ALU64 | BPF_LSH | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn mod32_reg(int dst, int src) {
    return insn(BPF_ALU | BPF_MOD | BPF_X, dst, src, 0, 0);
}
constexpr bpf_insn load_u32(int dst, int src, std::int16_t off) {
    return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
constexpr bpf_insn store_u32(int dst, std::int16_t off, int src) {
    return insn(BPF_STX | BPF_MEM | BPF_W, dst, src, off, 0);
}
constexpr bpf_insn store_u32_imm(int dst, std::int16_t off, std::int32_t imm) {
    return insn(BPF_ST | BPF_MEM | BPF_W, dst, 0, off, imm);
}
constexpr bpf_insn call(std::int32_t helper) {
    return insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}
constexpr bpf_insn exit_insn() {
    return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}
// Jumps to the label "pass"; their offsets are patched once it is placed.
constexpr bpf_insn jeq_imm(int dst, std::int32_t imm) {
    return insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn jgt_imm(int dst, std::int32_t imm) {
    return insn(BPF_JMP | BPF_JGT | BPF_K, dst, 0, 0, imm);
}
constexpr bpf_insn jge_imm(int dst, std::int32_t imm) {
    return insn(BPF_JMP | BPF_JGE | BPF_K, dst, 0, 0, imm);
}

// Loads a 64-bit immediate naming a map by its fd: two instructions.
void load_map(std::vector<bpf_insn>& p, int dst, int map_fd) {
    p.push_back(insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_fd));
    p.push_back(insn(0, 0, 0, 0, 0));
}

// The program run for each new connection of a group:
//   list = healthy list; if none or list->count == 0: SK_PASS (the kernel's hash decides)
//   key = list->index[ctx->hash % list->count]
//   bpf_sk_select_reuseport(ctx, sockarray, &key, 0); SK_PASS
// A failed select (no socket at that key) leaves the kernel's hash to decide too.
std::vector<bpf_insn> steering_program(int list_fd, int sockarray_fd) {
    std::vector<bpf_insn> p;
    std::vector<std::size_t> to_pass;
    auto jump_to_pass = [&](bpf_insn j) {
        to_pass.push_back(p.size());
        p.push_back(j);
    };
    p.push_back(mov_reg(BPF_REG_6, BPF_REG_1));  // r6 = ctx
    p.push_back(load_u32(BPF_REG_7, BPF_REG_1, offsetof(sk_reuseport_md, hash)));
    p.push_back(store_u32_imm(BPF_REG_10, -4, 0));  // key 0 of the list map, on the stack
    load_map(p, BPF_REG_1, list_fd);
    p.push_back(mov_reg(BPF_REG_2, BPF_REG_10));
    p.push_back(add_imm(BPF_REG_2, -4));
    p.push_back(call(BPF_FUNC_map_lookup_elem));
    jump_to_pass(jeq_imm(BPF_REG_0, 0));
    p.push_back(load_u32(BPF_REG_8, BPF_REG_0, offsetof(healthy_list, count)));
    jump_to_pass(jeq_imm(BPF_REG_8, 0));
    jump_to_pass(jgt_imm(BPF_REG_8, max_indexes));
    p.push_back(mod32_reg(BPF_REG_7, BPF_REG_8));   // r7 = hash % count
    jump_to_pass(jge_imm(BPF_REG_7, max_indexes));  // bounds the verifier can see
    p.push_back(lsh_imm(BPF_REG_7, 2));
    p.push_back(add_reg(BPF_REG_0, BPF_REG_7));
    p.push_back(load_u32(BPF_REG_1, BPF_REG_0, offsetof(healthy_list, index)));
    p.push_back(store_u32(BPF_REG_10, -8, BPF_REG_1));  // the socket array's key, on the stack
    p.push_back(mov_reg(BPF_REG_1, BPF_REG_6));
    load_map(p, BPF_REG_2, sockarray_fd);
    p.push_back(mov_reg(BPF_REG_3, BPF_REG_10));
    p.push_back(add_imm(BPF_REG_3, -8));
    p.push_back(mov_imm(BPF_REG_4, 0));
    p.push_back(call(BPF_FUNC_sk_select_reuseport));
    std::size_t pass = p.size();  // pass:
    p.push_back(mov_imm(BPF_REG_0, SK_PASS));
    p.push_back(exit_insn());
    for (std::size_t j : to_pass) p[j].off = static_cast<std::int16_t>(pass - (j + 1));
    return p;
}

// Loads the program; on failure `error` has the errno and the verifier's last line.
int load_program(const std::vector<bpf_insn>& prog, std::string& error) {
    static char log[8192];
    static const char license[] = "GPL";  // bpf_sk_select_reuseport is a GPL-only helper
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_SK_REUSEPORT;
    attr.insns = reinterpret_cast<std::uint64_t>(prog.data());
    attr.insn_cnt = static_cast<std::uint32_t>(prog.size());
    attr.license = reinterpret_cast<std::uint64_t>(license);
    attr.log_buf = reinterpret_cast<std::uint64_t>(log);
    attr.log_size = sizeof log;
    attr.log_level = 1;
    log[0] = '\0';
    int fd = static_cast<int>(sys_bpf(BPF_PROG_LOAD, attr));
    if (fd < 0) {
        int err = errno;
        std::string text(log);
        while (!text.empty() && text.back() == '\n') text.pop_back();
        if (auto nl = text.rfind('\n'); nl != std::string::npos) text = text.substr(nl + 1);
        error = std::string(std::strerror(err)) + (text.empty() ? "" : " (verifier: " + text + ")");
    }
    return fd;
}

std::uint64_t socket_cookie(int fd) noexcept {
    std::uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
    return cookie;
}

}  // namespace

bool reuseport_steering::set_up() noexcept {
    tried_ = true;
    list_fd_ = create_map(BPF_MAP_TYPE_ARRAY, sizeof(std::uint32_t), sizeof(healthy_list), 1);
    if (list_fd_ < 0) {
        FF_LOG_WARN(
            "reuseport steering unavailable: bpf(BPF_MAP_CREATE): %s; a stalled worker's share of new "
            "connections waits for it",
            std::strerror(errno));
        failed_ = true;
        return false;
    }
    return true;
}

bool reuseport_steering::sync_group(const std::string& address, const std::vector<int>& fds) noexcept {
    auto& g = groups_[address];
    if (g.prog_fd < 0) {
        g.sockarray_fd =
            create_map(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, sizeof(std::uint32_t), sizeof(std::uint64_t), max_indexes);
        std::string error;
        if (g.sockarray_fd < 0) {
            error = std::string("bpf(BPF_MAP_CREATE, REUSEPORT_SOCKARRAY): ") + std::strerror(errno);
        } else {
            g.prog_fd = load_program(steering_program(list_fd_, g.sockarray_fd), error);
            if (g.prog_fd < 0) error = "bpf(BPF_PROG_LOAD, SK_REUSEPORT): " + error;
        }
        if (g.prog_fd < 0) {
            FF_LOG_WARN("reuseport steering unavailable: %s; a stalled worker's share of new connections waits for it",
                        error.c_str());
            write_healthy({});  // the groups already steered fall back to the kernel's hash
            failed_ = true;
            return false;
        }
    }
    g.cookies.resize(std::min<std::size_t>(fds.size(), max_indexes), 0);
    for (std::uint32_t i = 0; i < g.cookies.size(); ++i) {
        // The kernel drops a closed socket from the array itself; a cookie tells a new socket
        // from an old one whose fd number was reused.
        std::uint64_t cookie = socket_cookie(fds[i]);
        if (cookie == 0 || cookie == g.cookies[i]) continue;
        std::uint64_t value = static_cast<std::uint64_t>(fds[i]);
        if (update_elem(g.sockarray_fd, &i, &value)) {
            g.cookies[i] = cookie;
        } else if (errno == EBUSY) {
            // The previous master's array holds it until that master exits (binary upgrade):
            // retried each tick.
            FF_LOG_DEBUG("reuseport steering: %s's socket of worker %u is still in the previous master's array",
                         address.c_str(), i);
        } else if (!g.warned) {
            FF_LOG_WARN("reuseport steering: cannot add %s's socket of worker %u: %s (retrying)", address.c_str(), i,
                        std::strerror(errno));
            g.warned = true;
        }
    }
    std::uint64_t first = socket_cookie(fds[0]);
    if (first != 0 && first != g.attached_cookie) {
        if (::setsockopt(fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &g.prog_fd, sizeof g.prog_fd) == 0) {
            g.attached_cookie = first;
        } else if (!g.warned) {
            FF_LOG_WARN("reuseport steering: SO_ATTACH_REUSEPORT_EBPF on %s: %s", address.c_str(),
                        std::strerror(errno));
            g.warned = true;
        }
    }
    return true;
}

void reuseport_steering::write_healthy(const std::vector<unsigned>& healthy) noexcept {
    if (written_ && healthy == healthy_) return;
    static healthy_list list;
    list.count = static_cast<std::uint32_t>(std::min<std::size_t>(healthy.size(), max_indexes));
    for (std::uint32_t i = 0; i < list.count; ++i) list.index[i] = healthy[i];
    std::uint32_t key = 0;
    if (update_elem(list_fd_, &key, &list)) {
        healthy_ = healthy;
        written_ = true;
    }
}

void reuseport_steering::update(std::uint64_t now,
                                process_table& procs,
                                const listen_sockets& sockets,
                                unsigned worker_count,
                                bool enabled) noexcept {
    if (failed_) return;
    if (!enabled) {
        if (tried_) write_healthy({});  // an empty list: the kernel's hash decides
        return;
    }
    if (!tried_ && !set_up()) return;
    // One group per address: its sockets in worker-index order.
    std::map<std::string, std::vector<int>> by_address;
    for (const auto& [address, fd] : sockets.entries()) by_address[address].push_back(fd);
    for (auto it = groups_.begin(); it != groups_.end();) {
        if (by_address.count(it->first) == 0 || by_address[it->first].size() < 2) {
            ::close(it->second.prog_fd);
            ::close(it->second.sockarray_fd);
            it = groups_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [address, fds] : by_address)
        if (fds.size() >= 2 && !sync_group(address, fds)) return;

    std::vector<unsigned> healthy;
    late_.resize(worker_count, false);
    unsigned count = std::min<unsigned>(worker_count, max_indexes);
    for (unsigned i = 0; i < count; ++i) {
        bool ready = false;
        std::uint64_t age = 0;
        for (const auto& w : procs.workers()) {
            if (w.index != i || w.stopping || !w.ready) continue;
            std::uint64_t beat = procs.slot(w).heartbeat_ms.load(std::memory_order_relaxed);
            ready = true;
            age = now > beat ? now - beat : 0;
        }
        bool late = ready && age > steering_late_ms;
        if (late && !late_[i]) {
            FF_LOG_WARN("steering new connections away from worker %u (heartbeat %.1f s late)", i,
                        static_cast<double>(age) / 1000.0);
            late_[i] = true;
        } else if (ready && !late && late_[i]) {  // not a replacement still starting
            FF_LOG_INFO("steering new connections to worker %u again (heartbeat fresh)", i);
            late_[i] = false;
        }
        if (ready && !late) healthy.push_back(i);
    }
    write_healthy(healthy);
}

void reuseport_steering::close_all() noexcept {
    for (auto& [address, g] : groups_) {
        if (g.prog_fd >= 0) ::close(g.prog_fd);
        if (g.sockarray_fd >= 0) ::close(g.sockarray_fd);
    }
    groups_.clear();
    if (list_fd_ >= 0) ::close(list_fd_);
    list_fd_ = -1;
}

}  // namespace fastfork::master
