#include "json_writer.hpp"

#include <fmt/format.h>

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

// True when none of the 8 bytes needs a look: no control character, no '"', no '\\', no byte
// >= 0x80 (exact SWAR tests, as in the kernel's space masks).
bool plain_ascii8(const char *p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHigh = 0x8080808080808080ULL;
    const auto has_byte = [&](uint8_t c) {
        const uint64_t x = w ^ (kOnes * c);
        return ~(((x & ~kHigh) + ~kHigh) | x) & kHigh;
    };
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    return ((w & kHigh) | below_space | has_byte('"') | has_byte('\\')) == 0;
}

}  // namespace

void JsonWriter::key(std::string_view k) {
    separator();
    write_string(k);
    out_ += ':';
    after_key_ = true;
}

void JsonWriter::number(int64_t v) {
    separator();
    const fmt::format_int text(v);  // no format-string parsing: this runs per field
    out_.append(text.data(), text.size());
}

void JsonWriter::unsigned_number(uint64_t v) {
    separator();
    const fmt::format_int text(v);
    out_.append(text.data(), text.size());
}

void JsonWriter::real(double v) {
    separator();
    if (std::isfinite(v)) {
        fmt::format_to(std::back_inserter(out_), "{}", v);
    } else {
        out_ += "null";
    }
}

void JsonWriter::boolean(bool v) {
    separator();
    out_ += v ? "true" : "false";
}

void JsonWriter::string(std::string_view v) {
    separator();
    write_string(v);
}

void JsonWriter::write_string(std::string_view v) {
    out_ += '"';
    size_t run = 0;  // start of the pending run of bytes that need no escaping
    for (size_t i = 0; i < v.size();) {
        if (i + 8 <= v.size() && plain_ascii8(v.data() + i)) {
            i += 8;
            continue;
        }
        const auto c = static_cast<uint8_t>(v[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            const size_t n = utf8_sequence_length(v, i);
            if (n > 0) {
                i += n;
                continue;
            }
        }
        out_.append(v.data() + run, i - run);
        switch (c) {
            case '"':
                out_ += "\\\"";
                break;
            case '\\':
                out_ += "\\\\";
                break;
            case '\n':
                out_ += "\\n";
                break;
            case '\r':
                out_ += "\\r";
                break;
            case '\t':
                out_ += "\\t";
                break;
            default:
                if (c < 0x20) {
                    fmt::format_to(std::back_inserter(out_), "\\u{:04x}", c);
                } else {
                    out_ += "\xEF\xBF\xBD";  // U+FFFD
                    invalid_utf8_ = true;
                }
        }
        run = ++i;
    }
    out_.append(v.data() + run, v.size() - run);
    out_ += '"';
}

}  // namespace tapsift::event
