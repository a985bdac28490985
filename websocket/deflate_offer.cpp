#include "websocket/deflate_offer.hpp"

#include "http/field.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::websocket {

namespace {

// RFC 7692 §7.1.2: a window-bits value is 8..15 written as 1*DIGIT, possibly quoted
// (RFC 6455 §9.1 allows quoted-string values). Returns 0 when malformed.
std::uint8_t parse_window_bits(std::string_view v) noexcept {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (v.size() == 1 && v[0] >= '8' && v[0] <= '9') return static_cast<std::uint8_t>(v[0] - '0');
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') return static_cast<std::uint8_t>(10 + v[1] - '0');
    return 0;
}

// One offer: "permessage-deflate" followed by ;-separated parameters. Fills `out` with the
// answer when the server can accept it.
bool accept_offer(std::string_view offer, const deflate_config& config, deflate_params& out) noexcept {
    std::size_t semi = offer.find(';');
    if (!http::iequals(http::trim_ows(offer.substr(0, semi)), "permessage-deflate")) return false;

    bool seen_snct = false, seen_cnct = false, seen_smwb = false, seen_cmwb = false;
    std::uint8_t smwb = 15;  // the client's limit on our window
    while (semi != std::string_view::npos) {
        offer.remove_prefix(semi + 1);
        semi = offer.find(';');
        std::string_view param = http::trim_ows(offer.substr(0, semi));
        std::size_t eq = param.find('=');
        std::string_view name = http::trim_ows(param.substr(0, eq));
        bool has_value = eq != std::string_view::npos;
        std::string_view value = has_value ? http::trim_ows(param.substr(eq + 1)) : std::string_view{};
        if (http::iequals(name, "server_no_context_takeover")) {
            if (seen_snct || has_value) return false;
            seen_snct = true;
        } else if (http::iequals(name, "client_no_context_takeover")) {
            if (seen_cnct || has_value) return false;
            seen_cnct = true;
        } else if (http::iequals(name, "server_max_window_bits")) {
            if (seen_smwb || !has_value) return false;
            smwb = parse_window_bits(value);
            if (smwb == 0) return false;
            seen_smwb = true;
        } else if (http::iequals(name, "client_max_window_bits")) {
            if (seen_cmwb) return false;
            // Without a value it only says the client could honour a limit (§7.1.2.2).
            if (has_value && parse_window_bits(value) == 0) return false;
            seen_cmwb = true;
        } else {
            return false;  // §7.1: an unknown parameter makes the offer unacceptable
        }
    }
    // zlib's raw deflate cannot compress with a 256-byte window, so a client insisting on 8 is
    // declined (§7.1.2.1 lets the server decline an offer it cannot meet).
    if (smwb < 9) return false;

    deflate_params p;
    p.level = config.level;
    p.server_no_context_takeover = seen_snct || config.server_no_context_takeover;
    // §7.1.1.2: the server may ask for client_no_context_takeover even when it was not offered.
    p.client_no_context_takeover = seen_cnct || config.client_no_context_takeover;
    std::uint8_t ours = config.server_max_window_bits < 9 ? 9 : config.server_max_window_bits;
    if (ours > 15) ours = 15;
    p.server_max_window_bits = smwb < ours ? smwb : ours;
    // §7.1.2.1: echo the limit when offered; name a smaller one of ours even when not.
    p.answer_server_max_window_bits = seen_smwb || p.server_max_window_bits < 15;
    // The inflater always uses a 32 KiB window, which decodes any smaller one, so we never limit
    // the client (and §7.1.2.2 forbids naming client_max_window_bits unless it was offered).
    p.client_max_window_bits = 15;
    p.answer_client_max_window_bits = false;
    out = p;
    return true;
}

}  // namespace

bool negotiate_deflate(std::string_view extensions_value, const deflate_config& config, deflate_params& out) noexcept {
    if (!config.enabled) return false;
    return http::for_each_list_element(
        extensions_value, [&](std::string_view offer) { return !offer.empty() && accept_offer(offer, config, out); });
}

void write_deflate_answer(const deflate_params& params, http::byte_buffer& out) {
    out.append("Sec-WebSocket-Extensions: permessage-deflate");
    if (params.server_no_context_takeover) out.append("; server_no_context_takeover");
    if (params.client_no_context_takeover) out.append("; client_no_context_takeover");
    if (params.answer_server_max_window_bits) {
        out.append("; server_max_window_bits=");
        out.append_decimal(params.server_max_window_bits);
    }
    if (params.answer_client_max_window_bits) {
        out.append("; client_max_window_bits=");
        out.append_decimal(params.client_max_window_bits);
    }
    out.append("\r\n");
}

}  // namespace fastfork::websocket
