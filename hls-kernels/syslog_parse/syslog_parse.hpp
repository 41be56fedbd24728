// syslog_parse: RFC 3164 and RFC 5424 header parsing over an ingest batch.
//
// Top function for Vitis (m_axi in/out) and for the cpu backend, which calls it directly.
// Reads one ingest batch (wire/ingest_batch.hpp) and writes one descriptor (wire/descriptor.hpp)
// per record, in record order.
#pragma once

#include <cstdint>

#include "tapsift_hls/hls_compat.hpp"

namespace tapsift::hls_kernels {

struct SyslogParseCounters {
    uint64_t beats_in;     // payload and header beats consumed
    uint64_t records;      // records parsed
    uint64_t scan_steps;   // next-space iterations of the header walk, one beat each
    uint64_t byte_steps;   // byte-at-a-time iterations: structured data and the RFC 3164 tag
    uint64_t bad_batches;  // batch header with a wrong magic or version
};

// rfc3164_utc_offset_s: the zone that RFC 3164 timestamps (which carry none) are read in.
// counters accumulate across calls; counters->records grows by the descriptors written
// (the batch's record_count, or 0 when the batch header is invalid, which bad_batches counts).
void syslog_parse(const beat_t *ingest, beat_t *descriptors, int32_t rfc3164_utc_offset_s,
                  SyslogParseCounters *counters);

}  // namespace tapsift::hls_kernels
