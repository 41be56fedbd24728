// One template record of a NetFlow v9 / IPFIX template set or options template set, read into a
// FlowTemplate. The one parser of template records: flow_parse reads every template record with
// it, and the host's copy of the template store (host/flow/template_mirror) reads the record a
// kTemplateLearned or kTemplateReplaced item points to with it, so both hold the same template.
#pragma once

#include <cstdint>

#include "wire/flow_template.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::hls_kernels {

// Why a template was refused. The datagram's other sets are still decoded.
enum class TemplateRejected : uint8_t {
    kReservedId,      // template ID below 256
    kNoFields,        // v9 template with zero fields (IPFIX zero fields is a withdrawal)
    kTooManyFields,   // more than wire::kMaxTemplateFields
    kZeroLength,      // its records would be zero bytes long
    kRecordTooLong,   // its records would not fit in a datagram
    kLengthMismatch,  // a field's length disagrees with its IE's type (e.g. a 3-byte IPv4 address)
    kTruncated,       // the template record runs past its set
    kCount
};

enum class TemplateRecordStatus : uint8_t {
    kDefinition,  // t is a template to store
    kWithdrawal,  // IPFIX, zero fields: withdraw t.template_id
    kRejected,    // refused (why); the set's next record follows
    kEnd,         // too short for a record: padding, the set ends here
    kTruncated,   // runs past the set: the rest of the set cannot be framed
};

struct TemplateRecordRead {
    TemplateRecordStatus status;
    TemplateRejected why;  // kRejected and kTruncated
    uint32_t bytes;  // the record's length, header included (kDefinition, kWithdrawal, kRejected)
    uint32_t field_specs;  // field specifiers it declares (flow_parse's field_steps counter)
};

// Reads the template record at payload[at], in a set that ends at payload[end], from a datagram of
// this kind (v9 or IPFIX); options: an options template set. Reads no byte at or past end.
// t is rewritten: template id, kind, options, the field list and what is derived from it (record
// length, variable, core field offsets); the caller sets the key's exporter and domain and the
// times.
TemplateRecordRead read_template_record(const uint8_t *payload, uint32_t at, uint32_t end,
                                        wire::RecordKind kind, bool options, wire::FlowTemplate &t);

}  // namespace tapsift::hls_kernels
