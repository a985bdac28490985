#include "websocket/close_code.hpp"

namespace fastfork::websocket {

std::string_view to_string(close_code code) noexcept {
    switch (code) {
        case close_code::normal:
            return "normal";
        case close_code::going_away:
            return "going_away";
        case close_code::protocol_error:
            return "protocol_error";
        case close_code::unsupported_data:
            return "unsupported_data";
        case close_code::no_status:
            return "no_status";
        case close_code::abnormal:
            return "abnormal";
        case close_code::invalid_payload:
            return "invalid_payload";
        case close_code::policy_violation:
            return "policy_violation";
        case close_code::message_too_big:
            return "message_too_big";
        case close_code::internal_error:
            return "internal_error";
    }
    return "other";
}

}  // namespace fastfork::websocket
