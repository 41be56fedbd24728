// A change of the flow engine's state (wire/flow_template.hpp) as a flow item. The state lives in
// the engine's memory (device memory on a card) and is never read back: the host keeps its copy
// (host/flow/template_mirror) from these items, applied in stream order, so a record item that
// follows a change in the same batch is named with the state after it.
//
// The head has FlowDescriptor's layout (record_index, item, kind, flags, template id, slot,
// generation, domain, span), so code that walks items reads it the same way.
#pragma once

#include <cstddef>
#include <cstdint>

#include "flow_descriptor.hpp"

namespace tapsift::wire {

struct FlowStoreChange {
    uint32_t record_index;  // the datagram whose decoding made the change
    uint8_t item;           // FlowItem: kTemplateLearned .. kExporterOptionsEvicted
    uint8_t reserved0[3];
    uint8_t kind;  // RecordKind of the template's datagram (v9 or IPFIX)
    uint8_t reserved1;
    uint8_t flags;  // kFlowOptions: an options template
    uint8_t reserved2;
    uint16_t template_id;
    // Templates: the index in FlowParseState::templates. Exporter options: the index in
    // FlowParseState::exporter_options.
    uint16_t slot;
    // Templates: the slot's generation after the change; for withdrawn, evicted and expired, the
    // generation of the template that left.
    uint32_t generation;
    uint32_t domain;  // v9 source ID / IPFIX observation domain (of the key that changed)
    // kTemplateLearned, kTemplateReplaced: the template record (its header included) in the
    // datagram's payload, which the host parses with the kernel's own parser
    // (flow_parse/template_record). {0, 0} for the others.
    Span record;
    uint8_t reserved3[4];
    int64_t refreshed_ns;  // templates: FlowTemplate::refreshed_ns after the change
    // kExporterOptions: the slot's values after the change.
    int64_t system_init_ms;
    uint32_t sampling_interval;
    uint8_t sampling_algorithm;
    uint8_t reserved4[3];
    uint8_t exporter[16];  // the key's exporter address
    uint8_t reserved5[56];
};

static_assert(sizeof(FlowStoreChange) == kDescriptorBytes, "a change item is two beats");
static_assert(offsetof(FlowStoreChange, item) == offsetof(FlowDescriptor, item) &&
                  offsetof(FlowStoreChange, kind) == offsetof(FlowDescriptor, kind) &&
                  offsetof(FlowStoreChange, flags) == offsetof(FlowDescriptor, flags) &&
                  offsetof(FlowStoreChange, template_id) == offsetof(FlowDescriptor, template_id) &&
                  offsetof(FlowStoreChange, slot) == offsetof(FlowDescriptor, template_slot) &&
                  offsetof(FlowStoreChange, generation) ==
                      offsetof(FlowDescriptor, template_generation) &&
                  offsetof(FlowStoreChange, domain) ==
                      offsetof(FlowDescriptor, observation_domain) &&
                  offsetof(FlowStoreChange, record) == offsetof(FlowDescriptor, record),
              "a change item's head reads as a flow item's");

}  // namespace tapsift::wire
