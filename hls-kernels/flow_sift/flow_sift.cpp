#include "flow_sift/flow_sift.hpp"

#include "wire/prefilter_image.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {

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
    const uint32_t n = flow_parse(ingest, items, max_items, config, state, &counters->parse);
    bool valid = false;
    const wire::PrefilterTables t =
        wire::prefilter_tables_from_image(reinterpret_cast<const uint8_t *>(tables), valid);
    if (!valid) counters->bad_tables++;
    prefilter_flows(ingest, items, n, t, &counters->prefilter);
}

}  // namespace tapsift::hls_kernels
