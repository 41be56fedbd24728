// flow_sift: the flow compute unit on the card. flow_parse decodes NetFlow v5/v9 and IPFIX into
// flow items with the engine's template store (device memory, kept across runs); the prefilter
// then rewrites each record item's verdict, rule and sift result. One run per ingest batch.
#pragma once

#include <cstdint>

#include "flow_parse/flow_parse.hpp"
#include "prefilter/prefilter.hpp"
#include "tapsift_hls/hls_compat.hpp"

namespace tapsift::hls_kernels {

struct FlowSiftCounters {
    FlowParseCounters parse;  // parse.items grows by the items this run wrote
    PrefilterCounters prefilter;
    uint64_t bad_tables;
};

// tables: a wire/prefilter_image.hpp image. counters accumulate across runs.
void flow_sift(const beat_t *ingest, beat_t *items, uint32_t max_items, FlowParseConfig config,
               wire::FlowParseState *state, const beat_t *tables, FlowSiftCounters *counters);

}  // namespace tapsift::hls_kernels
