// A program of a user's own on libfastfork: one handler, served by the pre-fork master
// (fastfork::serve) or, with --single-process, by a single in-process worker (fastfork::Server).
//
//   hello [--single-process] [--listen 127.0.0.1:8080] [--workers 2]

#include <cstdio>
#include <cstring>
#include <string>

#include "master/fastfork.hpp"

int main(int argc, char** argv) {
    fastfork::Config cfg;
    cfg.listen = {"127.0.0.1:8080"};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--single-process") == 0) {
            cfg.single_process = true;
        } else if (i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-') {
            std::string key = argv[i] + 2;
            for (char& c : key)
                if (c == '-') c = '_';
            if (auto err = fastfork::master::apply_setting(cfg, key, argv[++i])) {
                std::fprintf(stderr, "hello: %s\n", err->message.c_str());
                return 1;
            }
        } else {
            std::fprintf(stderr, "usage: hello [--single-process] [--listen ADDR] [--workers N]\n");
            return 1;
        }
    }

    auto handler = [](fastfork::RequestCtx& ctx) {
        if (ctx.path() == "/hello") {
            std::string_view name = ctx.arg("name");
            ctx.set_content_type("text/plain");
            ctx.append_body("Hello, ");
            ctx.append_body(name.empty() ? std::string_view("world") : name);
            ctx.append_body("!\n");
        } else if (ctx.path() == "/echo" && ctx.method() == fastfork::http::method::post) {
            ctx.set_content_type("application/octet-stream");
            ctx.set_body(ctx.body());
        } else if (ctx.path() == "/healthz") {
            ctx.set_content_type("text/plain");
            ctx.set_body_static("ok\n");
        } else {
            ctx.set_status(404);
            ctx.set_body_static("not here\n");
        }
    };
    if (cfg.single_process) return fastfork::Server(handler, cfg).listen_and_serve();
    return fastfork::serve(cfg, handler);
}
