// The `fastfork` binary: parses the command line (and, with -c, the JSON config), then serves.
// Startup errors are printed as one line and exit 1 before anything forks (STYLE.md rule 7).

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "handlers/router.hpp"
#include "master/config.hpp"
#include "master/fastfork.hpp"
#include "master/master.hpp"
#include "master/preflight.hpp"
#include "master/upgrade.hpp"

namespace {

constexpr const char* usage_text =
    "  -c, --config FILE     read settings from a JSON file (flags override it)\n"
    "  --check-config        validate the configuration and the log files it names, and exit (0 valid,\n"
    "                        1 not); creates no file and binds no socket\n"
    "  --single-process      serve in this process, without a master (like nginx master_process off)\n"
    "  --KEY VALUE           any config key, dashes for underscores: --listen 127.0.0.1:8080,\n"
    "                        --workers 4, --concurrency 1000, --header-timeout 5s ...\n"
    "  -h, --help            this text and every key\n"
    "  -v, --version         print the version\n";

void print_help() {
    // The summary line reads the defaults from a default config, like the key table below.
    const fastfork::master::config defaults;
    std::printf("usage: fastfork [options]\n\nServes HTTP/1.1 on %s with %s unless told otherwise.\n\n",
                defaults.listen.front().c_str(),
                defaults.workers == 0 ? "one worker per CPU" : ("workers " + std::to_string(defaults.workers)).c_str());
    std::fputs(usage_text, stdout);
    std::fputs("\nkeys (JSON name, default, meaning):\n", stdout);
    std::fputs(fastfork::master::describe_settings().c_str(), stdout);
}

std::string key_of_flag(std::string_view flag) {
    std::string key(flag.substr(2));
    for (char& c : key)
        if (c == '-') c = '_';
    return key;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace fastfork;
    std::string config_path;
    master::overrides flags;
    bool check_only = false;
    bool single_process = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            print_help();
            return 0;
        }
        if (arg == "--help-keys") {  // hidden: the key table as TSV, for dist/man/help2man.py
            const master::config defaults;
            for (const auto& s : master::settings()) {
                const std::string shown = s.show(defaults);
                std::printf("%.*s\t%s\t%.*s\n", static_cast<int>(s.key.size()), s.key.data(), shown.c_str(),
                            static_cast<int>(s.doc.size()), s.doc.data());
            }
            return 0;
        }
        if (arg == "-v" || arg == "--version") {
            std::printf("fastfork %s\n", FF_VERSION);
            return 0;
        }
        if (arg == "--single-process") {
            single_process = true;
            continue;
        }
        if (arg == "--check-config" || arg == "-t") {
            check_only = true;
            continue;
        }
        if (arg == "-c") arg = "--config";
        if (arg.size() < 3 || arg.substr(0, 2) != "--") {
            std::fprintf(stderr, "fastfork: unexpected argument \"%s\" (see --help)\n", argv[i]);
            return 1;
        }
        std::string key;
        std::string value;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            key = key_of_flag(arg.substr(0, eq));
            value = arg.substr(eq + 1);
        } else {
            key = key_of_flag(arg);
            if (i + 1 >= argc) {
                std::fprintf(stderr, "fastfork: %s needs a value\n", argv[i]);
                return 1;
            }
            value = argv[++i];
        }
        if (key == "config") {
            config_path = value;
            continue;
        }
        if (!master::find_setting(key)) {
            std::string msg = "unknown flag --" + std::string(arg.substr(2, arg.find('=') - 2));
            if (auto hint = master::suggest_key(key); !hint.empty()) msg += " (did you mean --" + hint + "?)";
            std::fprintf(stderr, "fastfork: %s\n", msg.c_str());
            return 1;
        }
        flags.emplace_back(key, value);
    }
    master::config cfg;
    if (auto err = master::build_config(config_path, flags, cfg)) {
        std::fprintf(stderr, "fastfork: %s\n", err->message.c_str());
        master::report_to_old_master("error " + err->message);  // when SIGUSR2 started us
        return 1;
    }
    if (check_only) {
        // Files too, but nothing that has side effects: no file is created, no socket is bound.
        if (auto err = master::check_files(cfg)) {
            std::fprintf(stderr, "fastfork: %s\n", err->message.c_str());
            return 1;
        }
        std::vector<std::string> warnings;
        auto tls_err = master::check_tls(cfg, warnings);
        for (const auto& w : warnings) std::fprintf(stderr, "fastfork: warning: %s\n", w.c_str());
        if (tls_err) {
            std::fprintf(stderr, "fastfork: %s\n", tls_err->message.c_str());
            return 1;
        }
        std::printf("fastfork: the configuration%s%s is valid\n", config_path.empty() ? "" : " in ",
                    config_path.c_str());
        return 0;
    }
    // The `routes` key, or the built-ins plus static files from `root` (handlers/router.hpp). Each
    // worker builds its table from its own configuration, so a reload can change the routes.
    Handler handler = handlers::routed_handler(handlers::standard_route_factories());
    if (single_process) {
        cfg.single_process = true;
        return Server(handler, cfg).listen_and_serve();
    }
    master::master_process master(cfg, flags, handler, {});
    return master.run();
}
