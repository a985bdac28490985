#pragma once
// A bounded list of header fields whose names and values are views into the caller's buffer.
// Filled by the parser; read by handlers through request_ctx. No allocation, ever.

#include <array>
#include <cstddef>
#include <string_view>

#include "http/field.hpp"
#include "http/limits.hpp"

namespace fastfork::http {

/// One field line. Views point into the buffer the parser was fed and live as long as it does.
struct header_field {
    std::string_view name;   // as received (canonicalized in place when the parser normalizes names)
    std::string_view value;  // leading and trailing OWS removed (RFC 9112 §5.1)
    field id = field::unknown;
};

/// Fixed-capacity list in arrival order; duplicates are kept.
class headers {
public:
    using const_iterator = const header_field*;

    /// Appends a field; returns false (and changes nothing) when full.
    [[nodiscard]] bool try_add(std::string_view name, std::string_view value, field id) noexcept {
        if (count_ == items_.size()) return false;
        items_[count_++] = header_field{name, value, id};
        return true;
    }

    /// The value of the first field with id `f`, or an empty view when absent.
    [[nodiscard]] std::string_view get(field f) const noexcept {
        for (std::size_t i = 0; i < count_; ++i)
            if (items_[i].id == f) return items_[i].value;
        return {};
    }
    /// The value of the first field named `name` (case-insensitive), or an empty view when absent.
    [[nodiscard]] std::string_view get(std::string_view name) const noexcept {
        field f = lookup_field(name);
        if (f != field::unknown) return get(f);
        for (std::size_t i = 0; i < count_; ++i)
            if (iequals(items_[i].name, name)) return items_[i].value;
        return {};
    }
    [[nodiscard]] bool has(field f) const noexcept {
        for (std::size_t i = 0; i < count_; ++i)
            if (items_[i].id == f) return true;
        return false;
    }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] const header_field& operator[](std::size_t i) const noexcept { return items_[i]; }
    [[nodiscard]] const_iterator begin() const noexcept { return items_.data(); }
    [[nodiscard]] const_iterator end() const noexcept { return items_.data() + count_; }

    void clear() noexcept { count_ = 0; }

    /// Applies `move(std::string_view&)` to every name and value (request::rebase).
    template <class Move>
    void rebase(Move&& move) noexcept {
        for (std::size_t i = 0; i < count_; ++i) {
            move(items_[i].name);
            move(items_[i].value);
        }
    }

private:
    std::array<header_field, header_capacity> items_{};
    std::size_t count_ = 0;
};

}  // namespace fastfork::http
