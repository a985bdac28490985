#include "handlers/ws_echo_route.hpp"

#include <memory>

#include "worker/websocket_session.hpp"

namespace fastfork::handlers {

namespace {

class echo_handler final : public worker::websocket_handler {
public:
    void on_message(worker::websocket_conn& ws, worker::ws::opcode op, std::string_view payload) override {
        ws.send(op, payload);
    }
};

struct ws_echo_state {
    worker::websocket_route route;
    echo_handler handler;
};

}  // namespace

route_fn make_ws_echo_route(const route_spec& spec) {
    // Shared by every copy of the route_fn and alive as long as the router: every session of
    // the route points at its handler.
    auto state = std::make_shared<ws_echo_state>();
    state->route.origins = spec.origins;
    state->route.subprotocols = spec.subprotocols;
    return [state](http::request_ctx& ctx, std::string_view rest) {
        if (!rest.empty() && rest != "/") return false;
        worker::upgrade_websocket(ctx, state->route, state->handler);
        return true;
    };
}

}  // namespace fastfork::handlers
