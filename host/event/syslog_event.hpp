// Event assembly: one parsed syslog record ► one ECS-shaped JSON document, with the field names
// Elastic's Filebeat syslog input emits (log.syslog.*, source.*, observer.*, event.*).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "annotations.hpp"
#include "format.hpp"
#include "wire/descriptor.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::event {

struct EventContext {
    std::string observer_hostname;
    std::string created;  // event.created: when the host assembled the batch (format_timestamp)
};

struct AssembledEvent {
    bool invalid_utf8;         // some bytes were replaced with U+FFFD
    size_t event_fields_at;    // just inside the "event" object: where dedup adds start/end
    size_t tapsift_fields_at;  // just inside the "tapsift" object: where dedup adds dedup.count
};

// Appends the event to out (cleared first). payload is the record's payload bytes; source_ip is
// format_address(rec.src_addr), which the caller also uses as the Kafka key. annotations (may be
// null) add CEF/LEEF fields, tags, threat matches and the deciding rule.
AssembledEvent assemble_syslog_event(const wire::IngestRecordHeader &rec,
                                     std::string_view source_ip, const uint8_t *payload,
                                     const wire::Descriptor &d, const EventContext &ctx,
                                     const EventAnnotations *annotations, std::string &out);

// Where a CEF/LEEF payload may start: the message, or for RFC 3164 the tag, since
// "host CEF:0|Vendor|..." (ArcSight's usual form) parses as tag "CEF" and message "0|Vendor|...".
std::string_view cef_leef_text(const uint8_t *payload, const wire::Descriptor &d);

const char *facility_name(int facility);
const char *severity_name(int severity);

}  // namespace tapsift::event
