// Event assembly for sFlow v5: one flow or counter sample ► one ECS-shaped JSON document.
// ECS names where they exist (source.*, destination.*, network.*, observer.ip: the agent) and
// sflow.* for the rest, in the spirit of the flow events (host/event/flow_event.hpp). Sampled
// counts are scaled like NetFlow's (flows.scale_sampled_counts, flows.sampling_overrides keyed
// by the agent address).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "event/annotations.hpp"
#include "event/flow_event.hpp"
#include "wire/ingest_batch.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::event {

struct SflowSampleView {
    const wire::IngestRecordHeader &datagram;
    const wire::SflowSample &sample;
    uint32_t sample_in_datagram;  // 0-based, decoded samples only
    const EventAnnotations *annotations = nullptr;
};

struct AssembledSflowEvent {
    bool sampling_overridden;
};

// Appends the event to out (cleared first). exporter_ip is format_address(datagram.src_addr).
AssembledSflowEvent assemble_sflow_event(const SflowSampleView &v, std::string_view exporter_ip,
                                         const FlowEventContext &ctx, std::string &out);

// The counter suffix of a malformed reason ("bad_version", ...).
const char *sflow_malformed_name(wire::SflowMalformed why);

}  // namespace tapsift::event
