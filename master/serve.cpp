#include "master/fastfork.hpp"
#include "master/master.hpp"

namespace fastfork {

int serve(const Config& config, Handler handler, std::function<void()> worker_init) {
    if (config.single_process) {
        if (worker_init) worker_init();
        return Server(std::move(handler), config).listen_and_serve();
    }
    master::master_process m(config, {}, std::move(handler), std::move(worker_init));
    return m.run();
}

}  // namespace fastfork
