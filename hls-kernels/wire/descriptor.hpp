// The descriptor batch: what a kernel returns, one fixed-size descriptor per ingest record,
// in record order. Fields are spans into the record's payload, so the host never copies them
// until it builds the event.
#pragma once

#include <cstdint>

#include "ingest_batch.hpp"

namespace tapsift::wire {

constexpr uint32_t kDescriptorBytes = 128;
constexpr uint32_t kDescriptorBeats = kDescriptorBytes / kBeatBytes;

enum class Verdict : uint8_t {
    kForward = 0,    // becomes an event
    kFiltered = 1,   // dropped by a rule
    kMalformed = 2,  // no event; malformed_reason says why
    kUndecided = 3,  // the prefilter left it to the host stage, from rule rule_id on
};

constexpr uint16_t kNoRule = 0xffff;       // rule_id when no rule decided
constexpr uint32_t kMaxTagsPerRecord = 3;  // a 4th matching tag rule is left to the host

// What the prefilter kernel adds to a descriptor or flow item, besides verdict and rule_id.
struct SiftResult {
    uint16_t tag_rules[kMaxTagsPerRecord];  // matched tag rules, in rule order
    uint8_t tag_count;
    uint8_t ioc_maybe;  // IocPlace bits the kernel's filter could not rule out
};

static_assert(sizeof(SiftResult) == 8, "fits a flow item's spare bytes");

// kCiscoIos: RFC 3164's PRI, then Cisco's own header (docs/syslog-rules.md).
enum class SyslogFormat : uint8_t { kUnknown = 0, kRfc3164 = 1, kRfc5424 = 2, kCiscoIos = 3 };

// Why a record could not become an event. Each has its own counter.
enum class SyslogMalformed : uint8_t {
    kNone = 0,
    kEmpty = 1,   // zero-length payload
    kBadPri = 2,  // starts with '<' but no valid <0..191> PRI follows
    kCount
};

// Best-effort notes: the event is still produced, with these recorded on it.
enum SyslogNotes : uint16_t {
    kNoteNoPri = 1u << 0,              // no PRI: RFC 3164 §4.3.3 default 13 (user.notice) applied
    kNoteNoTimestamp = 1u << 1,        // timestamp missing or unparsable: arrival time used
    kNoteYearInferred = 1u << 2,       // RFC 3164 timestamp without a year
    kNoteBadStructuredData = 1u << 3,  // SD not well-formed: kept as part of the message
    kNoteTruncated = 1u << 4,          // payload cut at the max message size
    kNoteClockUnsynced = 1u << 5,      // Cisco '*' or '.': the sender's clock was not set or synced
    // A timestamp outside 1900..2261 (what int64 nanoseconds hold) counts as no timestamp.
};

struct Span {
    uint16_t off;  // from the start of the payload
    uint16_t len;
};

struct Descriptor {
    uint32_t record_index;
    uint8_t kind;      // RecordKind
    uint8_t verdict;   // Verdict
    uint16_t rule_id;  // the deciding rule (or, kUndecided, where the host resumes); kNoRule
    uint8_t format;    // SyslogFormat
    uint8_t malformed_reason;      // SyslogMalformed
    uint16_t notes;                // SyslogNotes
    uint16_t priority;             // 0..191
    uint16_t version;              // RFC 5424 VERSION (1..999), 0 for RFC 3164
    uint8_t has_timestamp_offset;  // the header carried an explicit UTC offset
    uint8_t has_sender_sequence;   // sender_sequence is set
    uint8_t reserved0[2];
    uint32_t sender_sequence;  // the sender's own message number (Cisco "service sequence-numbers")
    int64_t timestamp_ns;      // UTC nanoseconds since the epoch
    Span hostname;
    Span appname;
    Span procid;
    Span msgid;
    Span structured_data;
    Span message;
    SiftResult sift;
    uint8_t reserved[64];
};

static_assert(sizeof(Descriptor) == kDescriptorBytes, "descriptor is two beats");

}  // namespace tapsift::wire
