#include "master/tls_config.hpp"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "master/units.hpp"
#include "worker/listener.hpp"

namespace fastfork::master {

std::string at_pointer(const std::string& pointer, const std::string& message) {
    return std::string(1, pointer_mark) + pointer + pointer_mark + message;
}

void split_pointer(const std::string& reason, std::string& pointer, std::string& message) {
    pointer.clear();
    message = reason;
    if (reason.empty() || reason[0] != pointer_mark) return;
    const auto end = reason.find(pointer_mark, 1);
    if (end == std::string::npos) return;
    pointer = reason.substr(1, end - 1);
    message = reason.substr(end + 1);
}

namespace {

using json = nlohmann::json;

// Where a nested value is: its JSON pointer (for the file position) and its dotted name (for
// the message), grown as the parser descends.
struct path {
    std::string pointer;
    std::string name;
    [[nodiscard]] path field(const std::string& k) const { return {pointer + "/" + k, name + "." + k}; }
    [[nodiscard]] path item(std::size_t i) const {
        return {pointer + "/" + std::to_string(i), name + "[" + std::to_string(i) + "]"};
    }
    [[nodiscard]] std::string key() const { return "key \"" + name + "\""; }
    [[nodiscard]] std::string fail(const std::string& why) const { return at_pointer(pointer, key() + ": " + why); }
};

std::string check_fields(const json& obj, const path& p, std::initializer_list<const char*> known) {
    for (const auto& [k, v] : obj.items()) {
        bool ok = false;
        for (const char* name : known) ok = ok || k == name;
        if (ok) continue;
        std::string list;
        for (const char* name : known) list += (list.empty() ? "" : ", ") + std::string(name);
        return p.field(k).fail("unknown field (expected one of: " + list + ")");
    }
    return {};
}

std::string get_string(const json& obj, const path& p, const char* k, std::string& out) {
    auto it = obj.find(k);
    if (it == obj.end()) return {};
    if (!it->is_string() || it->get<std::string>().empty())
        return p.field(k).fail("expected a non-empty string, not " +
                               std::string(it->is_string() ? "\"\"" : it->type_name()));
    out = it->get<std::string>();
    return {};
}

std::string get_strings(const json& obj, const path& p, const char* k, std::vector<std::string>& out) {
    auto it = obj.find(k);
    if (it == obj.end()) return {};
    if (!it->is_array()) return p.field(k).fail("expected an array of strings");
    out.clear();
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& e = (*it)[i];
        if (!e.is_string() || e.get<std::string>().empty())
            return p.field(k).item(i).fail("expected a non-empty string");
        out.push_back(e.get<std::string>());
    }
    return {};
}

std::string parse_certificate(const json& obj, const path& p, tls::certificate_options& out) {
    if (!obj.is_object()) return p.fail("expected an object {\"certificate\": …, \"key\": …}");
    if (auto e = check_fields(obj, p, {"certificate", "key", "names"}); !e.empty()) return e;
    if (!obj.contains("certificate")) return p.fail("field \"certificate\" is required");
    if (!obj.contains("key")) return p.fail("field \"key\" is required");
    if (auto e = get_string(obj, p, "certificate", out.certificate); !e.empty()) return e;
    if (auto e = get_string(obj, p, "key", out.key); !e.empty()) return e;
    if (auto e = get_strings(obj, p, "names", out.names); !e.empty()) return e;
    for (std::size_t i = 0; i < out.names.size(); ++i) {
        const std::string& n = out.names[i];
        const auto star = n.find('*');
        if (star != std::string::npos && (star != 0 || n.size() < 3 || n[1] != '.'))
            return p.field("names").item(i).fail("a wildcard must be the whole left-most label (\"*.example.com\")");
    }
    out.certificate_where = p.field("certificate").key();
    out.key_where = p.field("key").key();
    return {};
}

std::string parse_listener_tls(const json& obj, const path& p, tls::listener_options& out) {
    if (!obj.is_object()) return p.fail("expected an object {\"certificate\": …, \"key\": …}");
    if (auto e = check_fields(obj, p,
                              {"certificate", "key", "names", "certificates", "min_version", "ciphers", "ciphersuites",
                               "curves", "hsts"});
        !e.empty())
        return e;
    out.where = p.key();
    const bool single = obj.contains("certificate") || obj.contains("key") || obj.contains("names");
    if (single && obj.contains("certificates"))
        return p.fail("give either \"certificate\" and \"key\" or \"certificates\", not both");
    if (single) {
        json one = json::object();
        for (const char* k : {"certificate", "key", "names"})
            if (obj.contains(k)) one[k] = obj[k];
        tls::certificate_options c;
        if (auto e = parse_certificate(one, p, c); !e.empty()) return e;
        out.certificates.push_back(std::move(c));
    } else if (auto it = obj.find("certificates"); it != obj.end()) {
        const path cp = p.field("certificates");
        if (!it->is_array() || it->empty()) return cp.fail("expected a non-empty array of {\"certificate\", \"key\"}");
        for (std::size_t i = 0; i < it->size(); ++i) {
            tls::certificate_options c;
            if (auto e = parse_certificate((*it)[i], cp.item(i), c); !e.empty()) return e;
            out.certificates.push_back(std::move(c));
        }
    } else {
        return p.fail("field \"certificate\" (with \"key\") or \"certificates\" is required");
    }
    if (auto e = get_string(obj, p, "min_version", out.min_version); !e.empty()) return e;
    if (out.min_version != "1.2" && out.min_version != "1.3")
        return p.field("min_version").fail("expected \"1.2\" or \"1.3\" (older versions are not offered)");
    if (auto e = get_string(obj, p, "ciphers", out.ciphers); !e.empty()) return e;
    if (auto e = get_string(obj, p, "ciphersuites", out.ciphersuites); !e.empty()) return e;
    if (auto e = get_string(obj, p, "curves", out.curves); !e.empty()) return e;
    if (auto it = obj.find("hsts"); it != obj.end()) {
        const path hp = p.field("hsts");
        const json* max_age = &*it;
        if (it->is_object()) {
            if (auto e = check_fields(*it, hp, {"max_age", "include_subdomains"}); !e.empty()) return e;
            if (auto sub = it->find("include_subdomains"); sub != it->end()) {
                if (!sub->is_boolean()) return hp.field("include_subdomains").fail("expected true or false");
                out.hsts_include_subdomains = sub->get<bool>();
            }
            if (!it->contains("max_age")) return hp.fail("field \"max_age\" (seconds) is required");
            max_age = &(*it)["max_age"];
        }
        if (!max_age->is_number_unsigned())
            return (it->is_object() ? hp.field("max_age") : hp)
                .fail("expected max-age in seconds (a whole number), or {\"max_age\": …, \"include_subdomains\": …}");
        out.hsts_max_age = max_age->get<std::uint64_t>();
    }
    return {};
}

}  // namespace

std::string parse_listen_json(config& c, std::string_view json_text) {
    json arr;
    try {
        arr = json::parse(json_text);
    } catch (const json::exception& e) {
        return std::string("invalid JSON: ") + e.what();
    }
    if (arr.is_string()) arr = json::array({arr});
    if (!arr.is_array()) return "expected an array of \"host:port\" strings or {\"address\", \"tls\"} objects";
    std::vector<std::string> listen;
    std::vector<std::optional<tls::listener_options>> listen_tls;
    bool any_tls = false;
    const path root{"", "listen"};
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const json& e = arr[i];
        const path p = root.item(i);
        std::string address;
        std::optional<tls::listener_options> entry_tls;
        if (e.is_string()) {
            address = e.get<std::string>();
        } else if (e.is_object()) {
            if (auto err = check_fields(e, p, {"address", "tls"}); !err.empty()) return err;
            if (!e.contains("address")) return p.fail("field \"address\" (\"host:port\") is required");
            if (auto err = get_string(e, p, "address", address); !err.empty()) return err;
            if (auto it = e.find("tls"); it != e.end()) {
                entry_tls.emplace();
                if (auto err = parse_listener_tls(*it, p.field("tls"), *entry_tls); !err.empty()) return err;
                any_tls = true;
            }
        } else {
            return p.fail("expected \"host:port\" or {\"address\": \"host:port\", \"tls\": {…}}");
        }
        worker::listen_address a;
        std::string why;
        if (!worker::try_parse_listen_address(address, a, why))
            return (e.is_object() ? p.field("address") : p).fail(why + " (got \"" + address + "\")");
        for (std::size_t j = 0; j < listen.size(); ++j)
            if (listen[j] == address) return p.fail("\"" + address + "\" is listed twice");
        listen.push_back(std::move(address));
        listen_tls.push_back(std::move(entry_tls));
    }
    if (listen.empty()) return "expected at least one address";
    c.listen = std::move(listen);
    if (any_tls)
        c.listen_tls = std::move(listen_tls);
    else
        c.listen_tls.clear();
    return {};
}

std::string parse_tls_json(config& c, std::string_view json_text) {
    json obj;
    try {
        obj = json::parse(json_text);
    } catch (const json::exception& e) {
        return std::string("invalid JSON: ") + e.what();
    }
    const path p{"", "tls"};
    if (!obj.is_object()) return "expected an object {\"ticket_key_rotation\": \"12h\", …}";
    if (auto e = check_fields(obj, p, {"ticket_key_rotation", "ticket_key_files", "session_cache"}); !e.empty())
        return e;
    tls::server_options out = c.tls;
    if (auto it = obj.find("ticket_key_rotation"); it != obj.end()) {
        std::optional<std::chrono::milliseconds> d;
        if (it->is_string()) d = parse_duration(it->get<std::string>());
        if (!d || d->count() < 1000)
            return p.field("ticket_key_rotation").fail("expected a duration of at least 1s, like \"12h\" or \"30m\"");
        out.ticket_key_rotation = *d;
    }
    if (auto e = get_strings(obj, p, "ticket_key_files", out.ticket_key_files); !e.empty()) return e;
    if (out.ticket_key_files.size() > 8)
        return p.field("ticket_key_files").fail("at most 8 files (the first encrypts, all decrypt)");
    if (auto it = obj.find("session_cache"); it != obj.end()) {
        if (!it->is_boolean()) return p.field("session_cache").fail("expected true or false");
        out.session_cache = it->get<bool>();
    }
    c.tls = std::move(out);
    return {};
}

std::string show_tls(const config& c) {
    json obj = json::object();
    obj["ticket_key_rotation"] = format_duration(c.tls.ticket_key_rotation);
    if (!c.tls.ticket_key_files.empty()) obj["ticket_key_files"] = c.tls.ticket_key_files;
    obj["session_cache"] = c.tls.session_cache;
    return obj.dump();
}

}  // namespace fastfork::master
