// Where each template field's value sits within one flow record: shared by the per-record event
// writer and the aggregator, which reads a few fields (interfaces, AS numbers) by IE.
#pragma once

#include <cstdint>

#include "wire/flow_template.hpp"

namespace tapsift::event {

struct FieldSpan {
    uint32_t off;
    uint32_t len;
};

// Big-endian unsigned value of n bytes (n <= 8).
uint64_t read_be(const uint8_t *p, uint32_t n);

// Field offsets within the record (the kernel has checked that they fit). Returns how many of
// the fields were located (fewer when the record ends early).
uint32_t locate_fields(const uint8_t *rec, uint32_t rec_len, const wire::TemplateField *fields,
                       uint32_t count, FieldSpan *spans);

}  // namespace tapsift::event
