// fastforkctl: the operator's CLI for running fastfork instances. Reads the stats segment
// read-only (stats, status, list) and signals the master (reload, upgrade, stop, quit, reopen,
// scaling).
// Exit codes: 0 ok, 1 failure, 2 usage.

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "shm/layout.hpp"
#include "tools/commands.hpp"

namespace {

using namespace fastfork::tools;

constexpr const char* usage_text =
    "usage: fastforkctl [--name NAME] COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  list                 fastfork instances (/dev/shm/fastfork.*): name, master pid, alive or stale\n"
    "  stats                counters per worker and totals, latency percentiles\n"
    "      --json           the JSON document (same as GET /stats)\n"
    "      --prometheus     Prometheus text format (same as GET /metrics)\n"
    "      --watch SECONDS  refresh like top, with per-interval req/s and p50/p90/p99/p99.9;\n"
    "                       Ctrl-C stops\n"
    "      --count N        with --watch: stop after N refreshes\n"
    "  status               master pid, uptime, generation, last reload, workers (exit 1 if stale)\n"
    "  reload               SIGHUP, then wait for the result (exit 0 ok, 1 failed: prints why)\n"
    "      --timeout SECONDS  how long to wait for the result (default 60; 0: do not wait)\n"
    "  upgrade              binary upgrade (SIGUSR2): the new master takes the sockets and the\n"
    "                       stats over; wait for the result (exit 0 it serves, 1 the old master\n"
    "                       kept serving: prints why)\n"
    "      --timeout SECONDS  how long to wait for the result (default 60; 0: do not wait)\n"
    "  stop                 graceful shutdown (SIGTERM), then wait for the master to exit\n"
    "      --timeout SECONDS  how long to wait (default 60; exit 1 if it is still running)\n"
    "      --no-wait        return once the signal is sent (as --timeout 0)\n"
    "  quit                 immediate stop (SIGQUIT), then wait like stop (--timeout, --no-wait)\n"
    "  reopen               reopen log files (SIGUSR1)\n"
    "  add-worker           one more worker (SIGTTIN)\n"
    "  remove-worker        one worker less (SIGTTOU)\n"
    "\n"
    "  --name NAME          the instance (default: the only one running)\n"
    "  -h, --help           this text\n"
    "  -v, --version        version and stats layout version\n"
    "\n"
    "exit codes: 0 ok, 1 failure (no such instance, stale, incompatible, action failed), 2 usage\n";

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "fastforkctl: %s\n(see fastforkctl --help)\n", msg.c_str());
    return exit_usage;
}

bool parse_number(std::string_view text, double& out) {
    if (text.empty()) return false;
    std::string s(text);
    char* end = nullptr;
    errno = 0;
    out = std::strtod(s.c_str(), &end);
    return errno == 0 && end == s.c_str() + s.size() && out >= 0 && out < 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    std::string name;
    std::string command;
    stats_options stats;
    bool watch_given = false, count_given = false, timeout_given = false, no_wait = false;
    double timeout_s = 60;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&](std::string_view flag, std::string& out) -> bool {
            if (auto eq = arg.find('='); eq != std::string_view::npos && arg.substr(0, eq) == flag) {
                out = std::string(arg.substr(eq + 1));
                return true;
            }
            if (arg != flag) return false;
            if (i + 1 >= argc) {
                out.clear();
                return true;
            }
            out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "-h" || arg == "--help") {
            std::fputs(usage_text, stdout);
            return exit_ok;
        }
        if (arg == "-v" || arg == "--version") {
            std::printf("fastforkctl %s (stats layout version %u)\n", FF_VERSION, fastfork::shm::layout_version);
            return exit_ok;
        }
        if (value("--name", v)) {
            if (v.empty()) return usage_error("--name needs a value");
            name = v;
        } else if (arg == "--json") {
            stats.format = stats_format::json;
        } else if (arg == "--prometheus") {
            stats.format = stats_format::prometheus;
        } else if (value("--watch", v)) {
            if (!parse_number(v, stats.watch_s) || stats.watch_s < 0.05)
                return usage_error("--watch needs a number of seconds (at least 0.05)");
            watch_given = true;
        } else if (value("--count", v)) {
            double n = 0;
            if (!parse_number(v, n) || n < 1 || n != static_cast<double>(static_cast<std::uint64_t>(n)))
                return usage_error("--count needs a whole number of refreshes (at least 1)");
            stats.count = static_cast<std::uint64_t>(n);
            count_given = true;
        } else if (value("--timeout", v)) {
            if (!parse_number(v, timeout_s)) return usage_error("--timeout needs a number of seconds");
            timeout_given = true;
        } else if (arg == "--no-wait") {
            no_wait = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            return usage_error("unknown option " + std::string(arg));
        } else if (command.empty()) {
            command = arg;
        } else {
            return usage_error("unexpected argument \"" + std::string(arg) + "\"");
        }
    }
    if (command.empty()) return usage_error("no command given");
    const bool stats_flags = stats.format != stats_format::table || watch_given || count_given;
    if (stats_flags && command != "stats")
        return usage_error("--json, --prometheus, --watch and --count go with stats");
    if (count_given && !watch_given) return usage_error("--count goes with --watch");
    const bool waits = command == "reload" || command == "upgrade" || command == "stop" || command == "quit";
    if (timeout_given && !waits) return usage_error("--timeout goes with reload, upgrade, stop and quit");
    if (no_wait && !waits) return usage_error("--no-wait goes with reload, upgrade, stop and quit");
    if (no_wait && timeout_given) return usage_error("--no-wait and --timeout exclude each other");
    if (no_wait) timeout_s = 0;

    if (command == "list") return run_list();
    if (command == "stats") return run_stats(name, stats);
    if (command == "status") return run_status(name);
    if (command == "reload") return run_reload(name, timeout_s);
    if (command == "upgrade") return run_upgrade(name, timeout_s);
    if (command == "stop") return run_signal(name, SIGTERM, "graceful shutdown", timeout_s);
    if (command == "quit") return run_signal(name, SIGQUIT, "immediate stop", timeout_s);
    if (command == "reopen") return run_signal(name, SIGUSR1, "reopen log files");
    if (command == "add-worker") return run_signal(name, SIGTTIN, "add a worker");
    if (command == "remove-worker") return run_signal(name, SIGTTOU, "remove a worker");
    return usage_error("unknown command \"" + command + "\"");
}
