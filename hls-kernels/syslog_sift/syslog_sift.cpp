#include "syslog_sift/syslog_sift.hpp"

#include "wire/prefilter_image.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {

void syslog_sift(const beat_t *ingest, beat_t *descriptors, int32_t rfc3164_utc_offset_s,
                 const beat_t *tables, SyslogSiftCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = descriptors offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = tables offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem3
#pragma HLS INTERFACE s_axilite port = rfc3164_utc_offset_s
#pragma HLS INTERFACE s_axilite port = return
    syslog_parse(ingest, descriptors, rfc3164_utc_offset_s, &counters->parse);
    bool valid = false;
    const wire::PrefilterTables t =
        wire::prefilter_tables_from_image(reinterpret_cast<const uint8_t *>(tables), valid);
    if (!valid) counters->bad_tables++;
    prefilter_syslog(ingest, descriptors, t, &counters->prefilter);
}

}  // namespace tapsift::hls_kernels
