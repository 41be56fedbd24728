// Appends JSON to a reused std::string. Events are written field by field on the hot path, where a
// DOM library would allocate per node; strings are escaped and checked as UTF-8 on the way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tapsift::event {

class JsonWriter {
  public:
    explicit JsonWriter(std::string &out) : out_(out) {}

    void begin_object() {
        separator();
        out_ += '{';
        first_ = true;
    }
    void end_object() {
        out_ += '}';
        first_ = false;
    }
    void begin_array() {
        separator();
        out_ += '[';
        first_ = true;
    }
    void end_array() {
        out_ += ']';
        first_ = false;
    }
    void key(std::string_view k);
    void string(std::string_view v);
    void number(int64_t v);
    void unsigned_number(uint64_t v);
    void real(double v);  // NaN and infinities have no JSON form: null
    void boolean(bool v);
    // Replaces each byte that is not part of valid UTF-8 with U+FFFD; true if any was.
    bool had_invalid_utf8() const { return invalid_utf8_; }

  private:
    void write_string(std::string_view v);
    void separator() {
        if (!first_ && !after_key_) out_ += ',';
        first_ = false;
        after_key_ = false;
    }
    std::string &out_;
    bool first_ = true;
    bool after_key_ = false;
    bool invalid_utf8_ = false;
};

}  // namespace tapsift::event
