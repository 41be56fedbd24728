// sflow_parse: sFlow v5 decoding over an ingest batch.
//
// Top function for Vitis (m_axi in/out) and for the cpu backend, which calls it directly. Reads
// one ingest batch (wire/ingest_batch.hpp) of sFlow datagrams and writes sFlow items
// (wire/sflow_sample.hpp): one per flow or counter sample, then one closing each datagram.
// sFlow carries no templates, so the kernel keeps no state between batches.
#pragma once

#include <cstdint>

#include "tapsift_hls/hls_compat.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::hls_kernels {

struct SflowParseCounters {
    uint64_t beats_in;
    uint64_t datagrams;  // decoded (wholly or in part)
    uint64_t items;      // items written
    uint64_t flow_samples;
    uint64_t counter_samples;
    uint64_t samples_unknown;     // enterprise or format this decoder does not know: skipped
    uint64_t samples_over_limit;  // past kMaxSflowSamplesPerDatagram: skipped
    uint64_t records;             // flow and counter records walked
    uint64_t records_unknown;     // skipped by their length
    uint64_t records_short;       // a known record shorter than its format: skipped
    uint64_t records_over_limit;  // past kMaxSflowRecordsPerSample: skipped
    uint64_t headers_decoded;     // sampled headers of a protocol decoded to L2-L4
    uint64_t headers_other;       // sampled headers of another protocol (kept undecoded)
    uint64_t headers_cut;         // sampled headers that ended inside a layer
    uint64_t items_output_full;   // samples past the batch's item capacity
    uint64_t malformed[static_cast<uint32_t>(wire::SflowMalformed::kCount)];
    uint64_t bad_batches;
};

// Decodes one datagram into out (at most capacity samples; the rest are counted in
// counters.items_output_full and in *lost). base carries record_index; every sample starts as a
// copy of it. Returns the number of samples written and, in *why, the datagram's outcome.
uint32_t sflow_decode_datagram(const uint8_t *bytes, uint32_t len, const wire::SflowSample &base,
                               wire::SflowSample *out, uint32_t capacity, wire::SflowMalformed *why,
                               uint32_t *lost, SflowParseCounters &counters);

// Returns the number of items written (at most out_capacity).
uint32_t sflow_parse(const beat_t *ingest, beat_t *items, uint32_t out_capacity,
                     SflowParseCounters *counters);

}  // namespace tapsift::hls_kernels
