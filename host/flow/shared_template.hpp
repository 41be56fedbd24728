// One flow template as it travels on the template-sharing topic (flows.template_sharing): the
// message key names the template (exporter address, v9 source ID / IPFIX observation domain,
// template ID), so the compacted topic keeps the last definition of each; the value carries the
// template record exactly as the exporter sent it, which the receiving gateway wraps in a
// datagram of its own and offloads like any other, so the template reaches its engine's store
// through the same parser and the same change items as one learned from the wire.
//
// Value, format version 1 (little-endian), at most kMaxSharedValueBytes:
//   0 u8 format version | 1 u8 kind (RecordKind: 3 v9, 4 IPFIX) | 2 u8 flags (bit 0: an options
//   template) | 3 u8 0 | 4 u32 domain | 8 u16 template ID | 10 u16 record
//   length | 12 u32 0 | 16 i64 learned_ns (arrival of the datagram that defined it) | 24 u64
//   publisher (a random id per gateway process) | 32 exporter address (16 bytes, IPv4 mapped) |
//   48 the template record (its header included).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "wire/flow_template.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::flow {

constexpr uint8_t kSharedTemplateFormat = 1;
constexpr uint32_t kSharedValueHeaderBytes = 48;
// The longest template record flow_parse accepts: an IPFIX options template record header (6
// bytes) and kMaxTemplateFields enterprise field specifiers (8 bytes each).
constexpr uint32_t kMaxSharedRecordBytes = 6 + wire::kMaxTemplateFields * 8;
constexpr uint32_t kMaxSharedValueBytes = kSharedValueHeaderBytes + kMaxSharedRecordBytes;

struct SharedTemplate {
    wire::RecordKind kind = wire::RecordKind::kUnknown;
    bool options = false;
    uint32_t domain = 0;
    uint16_t template_id = 0;
    int64_t learned_ns = 0;
    uint64_t publisher = 0;
    uint8_t exporter[16] = {};
    uint16_t record_len = 0;
    std::array<uint8_t, kMaxSharedRecordBytes> record{};
};

// "exporter/domain/template id", the exporter as events print it: 192.0.2.11/7/300.
std::string shared_template_key(const uint8_t exporter[16], uint32_t domain, uint16_t template_id);

// The value for t.
std::string encode_shared_template(const SharedTemplate &t);

// Why a message was refused.
enum class SharedTemplateError : uint8_t {
    kNone,
    kVersion,     // a format version this gateway does not read
    kSize,        // shorter than the header, longer than the bound, or not header + record
    kKind,        // neither v9 nor IPFIX
    kRecord,      // not one template definition the kernel's parser reads as the header says
    kKeyMismatch  // the key does not name the template the value carries
};
const char *to_string(SharedTemplateError e);

// Reads a message; kNone and out filled when it is a template this gateway can install.
SharedTemplateError decode_shared_template(std::string_view key, std::string_view value,
                                           SharedTemplate &out);

// The datagram a shared template is offloaded in: a v9 packet or IPFIX message with one
// (options) template set holding the one record. Returns its length in buf.
uint32_t shared_template_datagram(const SharedTemplate &t,
                                  uint8_t (&buf)[kMaxSharedRecordBytes + 24]);

// The template record that defines def, as an exporter would send it (what the kernel's
// read_template_record reads back as def): a refresh's change item points at no record, so a
// refresh is shared from the host's copy of the template. Fills out's kind, options, template
// ID, record and record_len.
void write_template_record(const wire::FlowTemplate &def, SharedTemplate &out);

// Whether two templates define the same record layout (fields, lengths, scope).
bool same_definition(const wire::FlowTemplate &a, const wire::FlowTemplate &b);

}  // namespace tapsift::flow
