// The template store and the sampler table. The template store is a set-associative table keyed by
// (exporter address, observation domain, template ID), in fixed-size kernel memory. Used by
// flow_parse and by the host when it restores saved templates at start.
#pragma once

#include <cstdint>

#include "wire/flow_template.hpp"

namespace tapsift::hls_kernels {

enum class StoreOutcome : uint8_t { kLearned, kRefreshed, kReplaced, kEvicted };

// The set a key belongs to: its slots are set * wire::kTemplateWays onwards.
uint32_t template_set(const uint8_t exporter[16], uint32_t domain, uint16_t template_id);

// The slot holding the key, or -1.
int32_t template_find(const wire::FlowParseState &state, const uint8_t exporter[16],
                      uint32_t domain, uint16_t template_id);

// Where storing t (its key fields set) would go, and how; kEvicted: the slot's template makes
// room. Changes nothing, so the kernel can first make sure it can tell the host.
struct TemplatePlace {
    uint32_t slot;
    StoreOutcome outcome;
};
TemplatePlace template_place(const wire::FlowParseState &state, const wire::FlowTemplate &t);
// Stores t where template_place said (a refresh only moves refreshed_ns).
void template_commit(wire::FlowParseState &state, const TemplatePlace &place,
                     const wire::FlowTemplate &t);
// Both at once (restoring saved templates). *slot receives where t went.
StoreOutcome template_store(wire::FlowParseState &state, const wire::FlowTemplate &t,
                            uint32_t *slot);

// Which core field an IANA IE (enterprise 0) fills, or wire::kCoreFieldCount.
wire::CoreField core_of(uint32_t ie);

// Finds a fixed-length template's core field offsets, and whether it has reverse fields. Run when
// a template is stored (and on templates restored from a file, which are not trusted).
void template_locate_core(wire::FlowTemplate &t);

// The sampler table slot for an exporter's observation domain (direct-mapped).
uint32_t exporter_slot(const uint8_t exporter[16], uint32_t domain);

}  // namespace tapsift::hls_kernels
