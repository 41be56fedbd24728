// flow_parse: NetFlow v5, NetFlow v9 and IPFIX decoding over an ingest batch.
//
// Top function for Vitis (m_axi in/out/state) and for the cpu backend, which calls it directly.
// Reads one ingest batch (wire/ingest_batch.hpp) of flow datagrams and writes flow items
// (wire/flow_descriptor.hpp). Templates and sampling rates live in the engine's state
// (wire/flow_template.hpp), which persists across batches in the engine's memory; every change
// to it is also an item (wire/flow_store_change.hpp), so the host never reads the state.
#pragma once

#include <cstdint>

#include "tapsift_hls/hls_compat.hpp"
#include "template_record.hpp"
#include "wire/flow_template.hpp"

namespace tapsift::hls_kernels {

struct FlowParseCounters {
    uint64_t beats_in;
    uint64_t packets;  // datagrams decoded (wholly or in part)
    uint64_t items;    // flow items written
    uint64_t sets;     // sets walked (template, options template, data)
    uint64_t
        field_steps;   // field-by-field iterations: template field lists, variable-length records
    uint64_t records;  // data records returned (options data included); lost ones are in
                       // items_output_full
    uint64_t options_records;
    uint64_t items_output_full;  // records or held sets past the batch's item capacity
    uint64_t records_truncated;  // a variable-length field ran past its set: rest of set skipped
    uint64_t sets_without_template;
    uint64_t sets_unknown_id;  // set IDs 4..255 (reserved)
    uint64_t templates_learned;
    uint64_t templates_refreshed;  // the same definition sent again
    uint64_t templates_replaced;   // a different definition for a known ID
    uint64_t templates_withdrawn;
    uint64_t templates_evicted;  // the set was full: the least recently used one made room
    uint64_t templates_expired;
    uint64_t templates_rejected[static_cast<uint32_t>(TemplateRejected::kCount)];
    uint64_t sampling_updates;           // sampling rates learned from options data
    uint64_t exporter_option_evictions;  // sampler table slot taken over by another exporter
    // State changes not made because their item found no room in the batch: the host learns the
    // state only from those items, so a change it cannot be told of is not made (a template is
    // learned at its next refresh, a withdrawal or expiry waits for a later batch).
    uint64_t changes_refused;
    uint64_t bad_batches;
};

struct FlowParseConfig {
    int64_t template_timeout_ns;  // a template not refreshed for this long expires
};

// Returns the number of items written (at most out_capacity).
uint32_t flow_parse(const beat_t *ingest, beat_t *items, uint32_t out_capacity,
                    const FlowParseConfig &config, wire::FlowParseState *state,
                    FlowParseCounters *counters);

}  // namespace tapsift::hls_kernels
