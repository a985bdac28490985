#include "master/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "master/tls_config.hpp"

namespace fastfork::master {

namespace {

struct position {
    std::size_t line = 1;
    std::size_t column = 1;
};

position position_at(const std::string& text, std::size_t offset) {
    position p;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++p.line;
            p.column = 1;
        } else {
            ++p.column;
        }
    }
    return p;
}

/// Where each top-level key and its value start. nlohmann/json 3.11 reports positions only for
/// syntax errors, so this walks the (already validated) text once more to find them.
struct key_location {
    std::string key;
    std::size_t key_offset;
    std::size_t value_offset;
};

class locator {
public:
    explicit locator(const std::string& t) : text_(t) {}

    std::vector<key_location> top_level_keys() {
        std::vector<key_location> out;
        skip_ws();
        if (peek() != '{') return out;
        ++i_;
        for (;;) {
            skip_ws();
            if (peek() == '}') break;
            std::size_t key_at = i_;
            std::string key = read_string();
            skip_ws();
            ++i_;  // ':'
            skip_ws();
            out.push_back({key, key_at, i_});
            skip_value();
            skip_ws();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            break;
        }
        return out;
    }

    /// The offset of the value at JSON `pointer` ("/0/tls/key") inside the value that starts at
    /// `start`; the deepest value found when a step is missing.
    std::size_t find_pointer(std::size_t start, const std::string& pointer) {
        i_ = start;
        std::size_t at = start;
        std::size_t pos = 0;
        while (pos < pointer.size() && pointer[pos] == '/') {
            const auto next = pointer.find('/', pos + 1);
            const std::string step =
                pointer.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
            pos = next == std::string::npos ? pointer.size() : next;
            skip_ws();
            const char open = peek();
            if (open != '{' && open != '[') return at;
            ++i_;
            bool found = false;
            for (std::size_t index = 0;; ++index) {
                skip_ws();
                if (peek() == '}' || peek() == ']' || i_ >= text_.size()) break;
                bool match = false;
                if (open == '{') {
                    match = read_string() == step;
                    skip_ws();
                    ++i_;  // ':'
                    skip_ws();
                } else {
                    match = std::to_string(index) == step;
                }
                if (match) {
                    found = true;
                    break;
                }
                skip_value();
                skip_ws();
                if (peek() == ',') ++i_;
            }
            if (!found) return at;
            at = i_;
        }
        return at;
    }

private:
    char peek() const { return i_ < text_.size() ? text_[i_] : '\0'; }
    void skip_ws() {
        while (i_ < text_.size() && (text_[i_] == ' ' || text_[i_] == '\t' || text_[i_] == '\n' || text_[i_] == '\r'))
            ++i_;
    }
    std::string read_string() {
        // Keys are compared after nlohmann decodes them, so decode escapes through it as well.
        std::size_t start = i_++;
        while (i_ < text_.size() && text_[i_] != '"') i_ += text_[i_] == '\\' ? 2 : 1;
        ++i_;
        return nlohmann::json::parse(text_.substr(start, i_ - start)).get<std::string>();
    }
    void skip_value() {
        char c = peek();
        if (c == '"') {
            read_string();
            return;
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (i_ < text_.size()) {
                c = peek();
                if (c == '"') {
                    read_string();
                    continue;
                }
                ++i_;
                if (c == '{' || c == '[') ++depth;
                if ((c == '}' || c == ']') && --depth == 0) return;
            }
            return;
        }
        // A number or a literal (true, false, null).
        while (i_ < text_.size() && std::string_view(",}] \t\r\n").find(peek()) == std::string_view::npos) ++i_;
    }

    const std::string& text_;
    std::size_t i_ = 0;
};

std::string where(const std::string& origin, const std::string& text, std::size_t offset) {
    position p = position_at(text, offset);
    return origin + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": ";
}

/// Where the comma is when the parser stopped at a '}' or ']' right after one (`{"a": 1,}`):
/// nlohmann reports that as "expected string literal", which hides the real mistake.
/// `offset` is moved onto the closing bracket.
std::optional<std::size_t> trailing_comma_before(const std::string& text, std::size_t& offset) {
    std::size_t at = offset;
    if (at < text.size() && text[at] != '}' && text[at] != ']' && at > 0) --at;
    if (at >= text.size() || (text[at] != '}' && text[at] != ']')) return std::nullopt;
    std::size_t i = at;
    while (i > 0 && std::string_view(" \t\r\n").find(text[i - 1]) != std::string_view::npos) --i;
    if (i == 0 || text[i - 1] != ',') return std::nullopt;
    offset = at;
    return i - 1;
}

/// A JSON value as the settings table reads it; nullopt with `why` when its type cannot fit.
std::optional<std::string> value_text(const setting& s, const nlohmann::json& v, std::string& why) {
    if (s.kind == "json") return v.dump();  // structured (routes): the setting parses the JSON itself
    const std::string_view key = s.key;
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_unsigned() || v.is_number_integer()) return v.dump();
    if (v.is_number_float()) return v.dump();
    // Listen entries may be objects ({"address", "tls"}): the setting reads the array as JSON.
    if (v.is_array() && key == "listen") return v.dump();
    if (v.is_array() && s.kind == "list") {
        std::string joined;
        for (const auto& e : v) {
            if (!e.is_string()) {
                why = key == "listen" ? "expected an array of \"host:port\" strings"
                                      : "expected an array of strings, not one with a " + std::string(e.type_name());
                return std::nullopt;
            }
            if (!joined.empty()) joined += ',';
            joined += e.get<std::string>();
        }
        return joined;
    }
    why = std::string("expected a string, number or boolean, not ") + v.type_name();
    return std::nullopt;
}

}  // namespace

std::optional<config_error> load_config_text(const std::string& text, const std::string& origin, config& cfg) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // e.byte is 1-based and points just past the offending character.
        std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
        if (auto comma = trailing_comma_before(text, offset)) {
            position p = position_at(text, *comma);
            return config_error{where(origin, text, offset) + "invalid JSON: trailing comma (at " +
                                std::to_string(p.line) + ":" + std::to_string(p.column) + ") before '" + text[offset] +
                                "'; JSON allows none"};
        }
        std::string what = e.what();
        if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
        return config_error{where(origin, text, offset) + "invalid JSON: " + what};
    }
    if (!doc.is_object()) return config_error{where(origin, text, 0) + "the config must be a JSON object"};
    locator loc(text);
    std::vector<std::string> seen;
    for (const auto& k : loc.top_level_keys()) {
        for (const auto& s : seen)
            if (s == k.key)
                return config_error{where(origin, text, k.key_offset) + "key \"" + k.key + "\" is given twice"};
        seen.push_back(k.key);
        const setting* s = find_setting(k.key);
        if (!s) {
            std::string msg = "unknown key \"" + k.key + "\"";
            if (auto hint = suggest_key(k.key); !hint.empty()) msg += " (did you mean \"" + hint + "\"?)";
            return config_error{where(origin, text, k.key_offset) + msg};
        }
        std::string why;
        auto value = value_text(*s, doc.at(k.key), why);
        if (!value) return config_error{where(origin, text, k.value_offset) + "key \"" + k.key + "\": " + why};
        if (auto err = apply_setting(cfg, k.key, *value)) {
            std::string pointer, message;
            split_pointer(err->message, pointer, message);
            const std::size_t at =
                pointer.empty() ? k.value_offset : locator(text).find_pointer(k.value_offset, pointer);
            return config_error{where(origin, text, at) + message};
        }
    }
    return std::nullopt;
}

std::optional<config_error> load_config_file(const std::string& path, config& cfg) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return config_error{path + ": cannot read the config file: " + std::strerror(errno)};
    std::ostringstream ss;
    ss << in.rdbuf();
    cfg.source = path;
    return load_config_text(ss.str(), path, cfg);
}

std::optional<config_error> build_config(const std::string& path, const overrides& flags, config& out) {
    config cfg;
    if (!path.empty()) {
        if (auto err = load_config_file(path, cfg)) return err;
    }
    for (const auto& [key, value] : flags) {
        if (auto err = apply_setting(cfg, key, value)) {
            std::string pointer, message;
            split_pointer(err->message, pointer, message);
            return config_error{"flag --" + key + ": " + message};
        }
    }
    if (auto err = validate(cfg)) return err;
    cfg.source = path;
    out = std::move(cfg);
    return std::nullopt;
}

}  // namespace fastfork::master
