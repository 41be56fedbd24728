#include "flow_sift/flow_sift.hpp"

#include "tapsift_hls/ingest_reader.hpp"
#include "wire/prefilter_image.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {
namespace {

// Whether the batch is one of sFlow datagrams: its first record says (an empty or bad batch is
// left to flow_parse, which counts it).
bool sflow_batch(const beat_t *ingest) {
    BatchHeader batch;
    if (!read_batch_header(ingest, batch) || batch.record_count == 0 || batch.total_beats < 2)
        return false;
    RecordHeader first;
    read_record_header(ingest[1], first);
    return first.kind == static_cast<uint8_t>(wire::RecordKind::kSflowV5);
}

}  // namespace

void flow_sift(const beat_t *ingest, beat_t *items, uint32_t max_items, FlowParseConfig config,
               wire::FlowParseState *state, const beat_t *tables, FlowSiftCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = items offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = state offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = tables offset = slave bundle = gmem3
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem4
#pragma HLS INTERFACE s_axilite port = max_items
#pragma HLS INTERFACE s_axilite port = config
#pragma HLS INTERFACE s_axilite port = return
    bool valid = false;
    const wire::PrefilterTables t =
        wire::prefilter_tables_from_image(reinterpret_cast<const uint8_t *>(tables), valid);
    if (!valid) counters->bad_tables++;
    if (sflow_batch(ingest)) {
        const uint32_t n =
            sflow_parse(ingest, items, sflow_item_capacity(max_items), &counters->sflow);
        prefilter_sflow(items, n, t, &counters->prefilter);
        return;
    }
    const uint32_t n = flow_parse(ingest, items, max_items, config, state, &counters->parse);
    prefilter_flows(ingest, items, n, t, &counters->prefilter);
}

}  // namespace tapsift::hls_kernels
