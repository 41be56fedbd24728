#include "record_fields.hpp"

namespace tapsift::event {

uint64_t read_be(const uint8_t *p, uint32_t n) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

uint32_t locate_fields(const uint8_t *rec, uint32_t rec_len, const wire::TemplateField *fields,
                       uint32_t count, FieldSpan *spans) {
    uint32_t at = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t len = fields[i].length;
        if (len == wire::kVariableLength) {
            if (at + 1 > rec_len) return i;
            len = rec[at++];
            if (len == 255) {
                if (at + 2 > rec_len) return i;
                len = static_cast<uint32_t>(read_be(rec + at, 2));
                at += 2;
            }
        }
        if (at + len > rec_len) return i;
        spans[i] = FieldSpan{at, len};
        at += len;
    }
    return count;
}

}  // namespace tapsift::event
