#pragma once
// A growable byte buffer that keeps its capacity across clear(), so pooled buffers stop
// allocating once warmed (fasthttp's ByteBuffer). Used by request_ctx, the writer and the worker.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "http/rfc9110.hpp"

namespace fastfork::http {

class byte_buffer {
public:
    byte_buffer() noexcept = default;
    explicit byte_buffer(std::size_t capacity) { reserve(capacity); }
    byte_buffer(const byte_buffer&) = delete;
    byte_buffer& operator=(const byte_buffer&) = delete;
    byte_buffer(byte_buffer&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), cap_(std::exchange(o.cap_, 0)) {}
    byte_buffer& operator=(byte_buffer&& o) noexcept {
        if (this != &o) {
            std::free(data_);
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
            cap_ = std::exchange(o.cap_, 0);
        }
        return *this;
    }
    ~byte_buffer() { std::free(data_); }

    [[nodiscard]] char* data() noexcept { return data_; }
    [[nodiscard]] const char* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

    /// Empties the buffer, keeping its storage.
    void clear() noexcept { size_ = 0; }
    /// Frees the storage (used by pools that trim oversized buffers).
    void release_storage() noexcept {
        std::free(data_);
        data_ = nullptr;
        size_ = cap_ = 0;
    }

    /// Ensures capacity for `n` bytes in total. Grows geometrically; aborts via bad_alloc on exhaustion.
    void reserve(std::size_t n) {
        if (n <= cap_) return;
        std::size_t cap = cap_ ? cap_ : 64;
        while (cap < n) cap *= 2;
        void* p = std::realloc(data_, cap);
        if (!p) throw std::bad_alloc();
        data_ = static_cast<char*>(p);
        cap_ = cap;
    }
    /// Space for at least `n` more bytes at the end; write there, then commit().
    [[nodiscard]] char* prepare(std::size_t n) {
        reserve(size_ + n);
        return data_ + size_;
    }
    void commit(std::size_t n) noexcept { size_ += n; }
    /// Sets the size; new bytes are uninitialized.
    void resize(std::size_t n) {
        reserve(n);
        size_ = n;
    }
    /// Drops the first `n` bytes, moving the rest to the front.
    void consume(std::size_t n) noexcept {
        if (n >= size_) {
            size_ = 0;
            return;
        }
        std::memmove(data_, data_ + n, size_ - n);
        size_ -= n;
    }

    void append(std::string_view s) {
        if (s.empty()) return;
        std::memcpy(prepare(s.size()), s.data(), s.size());
        size_ += s.size();
    }
    void append(char c) {
        *prepare(1) = c;
        ++size_;
    }
    /// Appends the decimal digits of `v`.
    void append_decimal(std::uint64_t v) {
        char tmp[max_decimal_digits];
        append(std::string_view(tmp, static_cast<std::size_t>(put_decimal(tmp, v) - tmp)));
    }
    /// Appends the lower-case hex digits of `v` (chunk sizes).
    void append_hex(std::uint64_t v) {
        char tmp[max_hex_digits];
        append(std::string_view(tmp, static_cast<std::size_t>(put_hex(tmp, v) - tmp)));
    }

private:
    char* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
};

}  // namespace fastfork::http
