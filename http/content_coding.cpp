#include "http/content_coding.hpp"

#include "http/field.hpp"
#include "http/rfc9110.hpp"

namespace fastfork::http {

content_coding choose_coding(std::string_view accept, bool have_br, bool have_gzip) noexcept {
    if (!have_br && !have_gzip) return content_coding::identity;
    // -1: not mentioned.
    int q_br = -1, q_gzip = -1, q_star = -1;
    for_each_list_element(accept, [&](std::string_view member) {
        weighted_element w;
        if (member.empty() || !parse_weighted_element(member, w)) return false;
        const int qi = static_cast<int>(w.q);
        if (iequals(w.value, "br"))
            q_br = qi;
        else if (iequals(w.value, "gzip") || iequals(w.value, "x-gzip"))
            q_gzip = qi;
        else if (w.value == "*")
            q_star = qi;
        return false;
    });
    if (q_br < 0) q_br = q_star;
    if (q_gzip < 0) q_gzip = q_star;
    const int br = have_br ? q_br : 0;
    const int gzip = have_gzip ? q_gzip : 0;
    if (br > 0 && br >= gzip) return content_coding::br;
    if (gzip > 0) return content_coding::gzip;
    return content_coding::identity;
}

std::string_view coding_name(content_coding c) noexcept {
    switch (c) {
        case content_coding::gzip:
            return "gzip";
        case content_coding::br:
            return "br";
        case content_coding::identity:
            break;
    }
    return {};
}

}  // namespace fastfork::http
