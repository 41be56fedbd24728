// flow_sift: the flow compute unit on the card. An ingest batch holds NetFlow/IPFIX datagrams or
// sFlow datagrams (the host never mixes them); the kind of its first record picks the decoder.
// NetFlow/IPFIX: flow_parse decodes them into flow items with the engine's template store (device
// memory, kept across runs). sFlow: sflow_parse decodes them into sFlow items (six beats each,
// wire/sflow_sample.hpp) in the same items buffer; sFlow keeps no state. The prefilter then
// rewrites each record's or sample's verdict, rule and sift result. One run per ingest batch.
#pragma once

#include <cstdint>

#include "flow_parse/flow_parse.hpp"
#include "prefilter/prefilter.hpp"
#include "sflow_parse/sflow_parse.hpp"
#include "tapsift_hls/hls_compat.hpp"

namespace tapsift::hls_kernels {

struct FlowSiftCounters {
    FlowParseCounters parse;  // parse.items grows by the flow items this run wrote
    PrefilterCounters prefilter;
    uint64_t bad_tables;
    SflowParseCounters sflow;  // sflow.items grows by the sFlow items this run wrote
};

// The sFlow items an items buffer of max_items flow items holds.
constexpr uint32_t sflow_item_capacity(uint32_t max_items) {
    const uint64_t fit = uint64_t{max_items} * wire::kDescriptorBytes / wire::kSflowItemBytes;
    return fit < wire::kMaxSflowItemsPerBatch ? static_cast<uint32_t>(fit)
                                              : wire::kMaxSflowItemsPerBatch;
}

// items: max_items flow items (128 bytes each), or sflow_item_capacity(max_items) sFlow items.
// tables: a wire/prefilter_image.hpp image. counters accumulate across runs.
void flow_sift(const beat_t *ingest, beat_t *items, uint32_t max_items, FlowParseConfig config,
               wire::FlowParseState *state, const beat_t *tables, FlowSiftCounters *counters);

}  // namespace tapsift::hls_kernels
