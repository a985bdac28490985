#include "master/upgrade.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "master/inherited_sockets.hpp"

extern char** environ;

namespace fastfork::master {

namespace {

int report_fd = -1;  // the new master's end of the status pipe; -1 once closed or when none

bool parse_number(std::string_view text, long& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

// FASTFORK_UPGRADE split into its four fields; false when malformed.
bool split_env(std::string_view v, long& pid, long& fd, std::string_view& name, std::string_view& slots) {
    std::string_view parts[4];
    for (int i = 0; i < 3; ++i) {
        auto colon = v.find(':');
        if (colon == std::string_view::npos) return false;
        parts[i] = v.substr(0, colon);
        v = v.substr(colon + 1);
    }
    parts[3] = v;
    name = parts[2];
    slots = parts[3];
    return parse_number(parts[0], pid) && pid > 0 && parse_number(parts[1], fd) && fd > 2 && !name.empty();
}

bool is_handover_variable(std::string_view entry) {
    for (std::string_view var :
         {std::string_view(upgrade_env), std::string_view(listen_fds_env), std::string_view("LISTEN_FDS"),
          std::string_view("LISTEN_PID"), std::string_view("LISTEN_FDNAMES"), std::string_view("WATCHDOG_PID"),
          std::string_view(ticket_keys_env)})
        if (entry.size() > var.size() && entry.substr(0, var.size()) == var && entry[var.size()] == '=') return true;
    return false;
}

}  // namespace

std::optional<handover> take_handover(std::string& error) {
    const char* v = std::getenv(upgrade_env);
    if (!v) return std::nullopt;
    long pid = 0, fd = -1;
    std::string_view name, slots;
    handover h;
    if (!split_env(v, pid, fd, name, slots) || !parse_slots(slots, h.slots)) {
        error = std::string(upgrade_env) + "=\"" + v + "\" is not OLD_PID:STATUS_FD:NAME:SLOTS";
        ::unsetenv(upgrade_env);
        return std::nullopt;
    }
    h.old_master = pid;
    h.name = std::string(name);
    report_fd = static_cast<int>(fd);
    ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);  // not for our workers, nor a later upgrade
    ::unsetenv(upgrade_env);
    return h;
}

void report_to_old_master(std::string_view line) noexcept {
    if (report_fd < 0) {
        // main() reports a bad config before the master has read the environment.
        const char* v = std::getenv(upgrade_env);
        long pid = 0, fd = -1;
        std::string_view name, slots;
        if (!v || !split_env(v, pid, fd, name, slots)) return;
        report_fd = static_cast<int>(fd);
    }
    std::string text(line);
    std::replace(text.begin(), text.end(), '\n', ' ');
    text += '\n';
    // One short write to a pipe (under PIPE_BUF) is atomic; a dead reader just fails (EPIPE,
    // SIGPIPE is ignored by the master and harmless at startup).
    [[maybe_unused]] auto n = ::write(report_fd, text.data(), std::min<std::size_t>(text.size(), 4000));
}

void close_report_channel() noexcept {
    if (report_fd >= 0) ::close(report_fd);
    report_fd = -1;
}

own_command read_own_command() {
    own_command out;
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) out.exe.assign(buf, static_cast<std::size_t>(n));
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::size_t pos = 0; pos < all.size();) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string::npos) end = all.size();
        out.argv.push_back(all.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

pid_t spawn_new_master(const new_master_request& req, int& status_fd, std::string& error) {
    // Everything the child needs is built here: between fork and exec it only makes syscalls.
    std::vector<std::string> env_text;
    for (char** e = environ; e && *e; ++e)
        if (!is_handover_variable(*e)) env_text.emplace_back(*e);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        error = std::string("pipe2 failed: ") + std::strerror(errno);
        return -1;
    }
    env_text.push_back(std::string(upgrade_env) + "=" + std::to_string(req.old_master) + ":" +
                       std::to_string(pipe_fds[1]) + ":" + req.name + ":" + format_slots(req.slots));
    env_text.push_back(std::string(listen_fds_env) + "=" + req.listen_fds_value);
    for (const auto& [name, fd] : req.passed_fds) env_text.push_back(name + "=" + std::to_string(fd));
    std::vector<char*> envp;
    for (auto& s : env_text) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = req.argv;
    if (args.empty()) args.push_back(req.binary);
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    const std::string exec_failed = "error exec(" + req.binary + ") failed: ";

    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    pid_t pid = ::fork();
    if (pid == 0) {
        // Default dispositions before unblocking: a signal now must not run the old master's
        // (libuv's) handler, which would write to the old master's signal pipe.
        for (int sig = 1; sig < NSIG; ++sig)
            if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int fd : req.listen_fds) ::fcntl(fd, F_SETFD, 0);
        for (const auto& passed : req.passed_fds) ::fcntl(passed.second, F_SETFD, 0);
        ::fcntl(pipe_fds[1], F_SETFD, 0);
        ::execve(req.binary.c_str(), argv.data(), envp.data());
        const char* why = std::strerror(errno);
        [[maybe_unused]] auto n1 = ::write(pipe_fds[1], exec_failed.data(), exec_failed.size());
        [[maybe_unused]] auto n2 = ::write(pipe_fds[1], why, std::strlen(why));
        [[maybe_unused]] auto n3 = ::write(pipe_fds[1], "\n", 1);
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ::close(pipe_fds[1]);
    if (pid < 0) {
        ::close(pipe_fds[0]);
        error = std::string("fork failed: ") + std::strerror(fork_errno);
        return -1;
    }
    ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    status_fd = pipe_fds[0];
    return pid;
}

std::string format_slots(std::vector<unsigned> slots) {
    std::sort(slots.begin(), slots.end());
    std::string out;
    for (std::size_t i = 0; i < slots.size();) {
        std::size_t j = i;
        while (j + 1 < slots.size() && slots[j + 1] == slots[j] + 1) ++j;
        if (!out.empty()) out += ',';
        out += std::to_string(slots[i]);
        if (j > i) out += "-" + std::to_string(slots[j]);
        i = j + 1;
    }
    return out;
}

bool parse_slots(std::string_view text, std::vector<unsigned>& out) {
    out.clear();
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        auto dash = item.find('-');
        long lo = 0, hi = 0;
        if (!parse_number(item.substr(0, dash), lo)) return false;
        hi = lo;
        if (dash != std::string_view::npos && !parse_number(item.substr(dash + 1), hi)) return false;
        if (lo < 0 || hi < lo || hi > 100000) return false;
        for (long s = lo; s <= hi; ++s) out.push_back(static_cast<unsigned>(s));
    }
    return true;
}

}  // namespace fastfork::master
