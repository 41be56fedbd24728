#include "json_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace tapsift::event {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
    const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    const uint8_t c = b(0);
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1) && b(1) >= 0xA0 && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1) && b(1) <= 0x9F && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1) && b(1) >= 0x90 && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1) && b(1) <= 0x8F && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

using Bytes16 = uint8_t __attribute__((vector_size(16)));

// Bytes to the first one that needs a look (a control character, '"', '\\', or >= 0x80), in
// 16-byte steps: messages are mostly plain ASCII, and this scan is most of writing them.
size_t plain_prefix(const char *p, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        Bytes16 v;
        std::memcpy(&v, p + i, sizeof v);
        const auto special = (v < 0x20) | (v >= 0x80) | (v == '"') | (v == '\\');
        uint64_t half[2];
        std::memcpy(half, &special, sizeof half);
        if ((half[0] | half[1]) != 0) break;
    }
    for (; i < n; ++i) {
        const auto c = static_cast<uint8_t>(p[i]);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    }
    return i;
}

}  // namespace

void JsonWriter::grow(size_t n) {
    // Room for this write and as much again: a few resizes per event, each zero-filling only
    // what it adds.
    out_.resize(std::max(len_ + n, out_.size()) + std::max<size_t>(n, 512));
}

void JsonWriter::key(std::string_view k) {
    if (plain_prefix(k.data(), k.size()) == k.size()) return plain_key(k.data(), k.size());
    separator();
    write_string(k);
    put(':');
    after_key_ = true;
}

void JsonWriter::number(int64_t v) {
    separator();
    const fmt::format_int text(v);  // no format-string parsing: this runs per field
    put(text.data(), text.size());
}

void JsonWriter::unsigned_number(uint64_t v) {
    separator();
    const fmt::format_int text(v);
    put(text.data(), text.size());
}

void JsonWriter::real(double v) {
    separator();
    if (!std::isfinite(v)) return put("null", 4);
    char text[64];  // the shortest round-trip form of a double is at most 24 characters
    const auto r = fmt::format_to_n(text, sizeof text, "{}", v);
    put(text, std::min(r.size, sizeof text));
}

void JsonWriter::boolean(bool v) {
    separator();
    if (v) return put("true", 4);
    put("false", 5);
}

void JsonWriter::string(std::string_view v) {
    separator();
    write_string(v);
}

void JsonWriter::write_string(std::string_view v) {
    put('"');
    size_t run = 0;  // start of the pending run of bytes that need no escaping
    for (size_t i = 0; i < v.size();) {
        i += plain_prefix(v.data() + i, v.size() - i);
        if (i == v.size()) break;
        const auto c = static_cast<uint8_t>(v[i]);
        if (c >= 0x80) {
            const size_t n = utf8_sequence_length(v, i);
            if (n > 0) {
                i += n;
                continue;
            }
        }
        put(v.data() + run, i - run);
        switch (c) {
            case '"':
                put("\\\"", 2);
                break;
            case '\\':
                put("\\\\", 2);
                break;
            case '\n':
                put("\\n", 2);
                break;
            case '\r':
                put("\\r", 2);
                break;
            case '\t':
                put("\\t", 2);
                break;
            default:
                if (c < 0x20) {
                    char text[8];
                    const auto r = fmt::format_to_n(text, sizeof text, "\\u{:04x}", c);
                    put(text, r.size);
                } else {
                    put("\xEF\xBF\xBD", 3);  // U+FFFD
                    invalid_utf8_ = true;
                }
        }
        run = ++i;
    }
    put(v.data() + run, v.size() - run);
    put('"');
}

}  // namespace tapsift::event
