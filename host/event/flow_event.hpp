// Event assembly for flows: one flow record ► one ECS-shaped JSON document, with the field names
// Elastic's Filebeat netflow input emits (source.*, destination.*, network.*, observer.ip,
// netflow.<IPFIX IE name in snake_case>).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "event/annotations.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/flow_template.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::event {

struct FlowEventContext {
    std::string created;                                                  // event.created
    const std::map<std::string, uint32_t> *sampling_overrides = nullptr;  // exporter ► 1-in-N
    bool scale_sampled_counts = false;
};

// The record as the kernel returned it, with the template that names its fields.
struct FlowRecordView {
    const wire::IngestRecordHeader &datagram;
    const uint8_t *payload;
    const wire::FlowDescriptor &item;
    const wire::TemplateField *fields;  // nullptr: only the kernel's core fields are known
    uint32_t field_count;
    uint32_t record_in_datagram;                    // 0-based, data records only
    bool decoded_late;                              // its set was held until the template arrived
    const EventAnnotations *annotations = nullptr;  // tags, threats, deciding rule
};

struct AssembledFlowEvent {
    bool invalid_utf8;
    bool sampling_overridden;
    uint32_t length_mismatches;  // values whose length their IANA type cannot have: shown as hex
};

// The 1-in-N rate a record's counts were sampled at (flows.sampling_overrides first, then the
// exporter's), and what network.bytes/packets are multiplied by (flows.scale_sampled_counts;
// never options data).
struct SamplingRate {
    uint32_t interval;  // 0: the exporter has not said
    bool overridden;    // from flows.sampling_overrides
    uint64_t scale;     // 1 when counts are not scaled
};
SamplingRate sampling_rate(const wire::FlowDescriptor &d, std::string_view exporter_ip,
                           const FlowEventContext &ctx);
// The same for any sampled record (sFlow samples too): options data is never scaled.
SamplingRate sampling_rate(uint32_t exporter_interval, bool options, std::string_view exporter_ip,
                           const FlowEventContext &ctx);

// Appends the event to out (cleared first). exporter_ip is format_address(datagram.src_addr),
// which the caller also uses as the Kafka key.
AssembledFlowEvent assemble_flow_event(const FlowRecordView &r, std::string_view exporter_ip,
                                       const FlowEventContext &ctx, std::string &out);

// ECS network.direction for IE 61 flowDirection: "inbound", "outbound" or "unknown".
const char *direction_name(uint8_t direction);

// ECS network.transport for an IANA protocol number ("tcp", "udp", ...), or nullptr.
const char *transport_name(uint8_t protocol);

class JsonWriter;
// network.transport (when the protocol has a name) and network.iana_number, inside "network".
void write_protocol(JsonWriter &w, uint8_t protocol);

}  // namespace tapsift::event
