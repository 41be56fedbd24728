// Writes JSON into a reused std::string. Events are written field by field on the hot path, where a
// DOM library would allocate per node; strings are escaped and checked as UTF-8 on the way.
// The writer owns the string while it lives: it writes through a cursor into room it sized
// ahead, because std::string appends (a call, a capacity check and a terminator per piece) were
// most of the per-event cost. out holds exactly the text once the writer is gone; read the text
// while it lives through size() and text().
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tapsift::event {

class JsonWriter {
  public:
    // Writes after out's current text.
    explicit JsonWriter(std::string &out) : out_(out), len_(out.size()) {}
    ~JsonWriter() { out_.resize(len_); }
    JsonWriter(const JsonWriter &) = delete;
    JsonWriter &operator=(const JsonWriter &) = delete;

    size_t size() const { return len_; }  // out's text so far, the writer's included
    std::string_view text() const { return {out_.data(), len_}; }

    void begin_object() {
        separator();
        put('{');
        first_ = true;
    }
    void end_object() {
        put('}');
        first_ = false;
    }
    void begin_array() {
        separator();
        put('[');
        first_ = true;
    }
    void end_array() {
        put(']');
        first_ = false;
    }
    // A key written as a literal in tapsift's source: its text needs no escaping, so it is
    // copied as is. Every other key goes through key(string_view), which escapes.
    template <size_t N>
    void key(const char (&literal)[N]) {
        plain_key(literal, N - 1);
    }
    // A char buffer is not a literal: its text may end before N - 1 (pass a string_view).
    template <size_t N>
    void key(char (&buffer)[N]) = delete;
    void key(std::string_view k);
    // A key tapsift builds from its own tables (IPFIX names): plain ASCII, copied as is.
    void plain_key(std::string_view k) { plain_key(k.data(), k.size()); }
    // Likewise for a value written as a literal ("gateway", "syslog").
    template <size_t N>
    void string(const char (&literal)[N]) {
        plain_string(std::string_view(literal, N - 1));
    }
    // A value tapsift formats itself (timestamps, addresses, hex): plain ASCII, copied as is.
    void plain_string(std::string_view v) {
        separator();
        char *p = room(v.size() + 2);
        *p++ = '"';
        if (!v.empty()) std::memcpy(p, v.data(), v.size());  // data() may be null when empty
        p[v.size()] = '"';
        len_ += v.size() + 2;
    }
    template <size_t N>
    void string(char (&buffer)[N]) = delete;
    void string(std::string_view v);
    void number(int64_t v);
    void unsigned_number(uint64_t v);
    void real(double v);  // NaN and infinities have no JSON form: null
    void boolean(bool v);
    // Replaces each byte that is not part of valid UTF-8 with U+FFFD; true if any was.
    bool had_invalid_utf8() const { return invalid_utf8_; }

  private:
    // At least n writable bytes at the cursor.
    char *room(size_t n) {
        if (len_ + n > out_.size()) grow(n);
        return out_.data() + len_;
    }
    void grow(size_t n);
    void put(char c) {
        *room(1) = c;
        ++len_;
    }
    void put(const char *p, size_t n) {
        if (n == 0) return;  // p may be null (an empty string_view): memcpy must not see it
        std::memcpy(room(n), p, n);
        len_ += n;
    }
    void plain_key(const char *k, size_t n) {
        char *const start = room(n + 4);
        char *p = start;
        if (!first_ && !after_key_) *p++ = ',';
        *p++ = '"';
        if (n > 0) std::memcpy(p, k, n);  // k may be null when n is 0
        p += n;
        *p++ = '"';
        *p++ = ':';
        len_ += static_cast<size_t>(p - start);
        first_ = false;
        after_key_ = true;
    }
    void write_string(std::string_view v);
    void separator() {
        if (!first_ && !after_key_) put(',');
        first_ = false;
        after_key_ = false;
    }
    std::string &out_;
    size_t len_;  // the text's end in out_; what follows is room
    bool first_ = true;
    bool after_key_ = false;
    bool invalid_utf8_ = false;
};

}  // namespace tapsift::event
