// syslog_sift: the syslog compute unit on the card. syslog_parse writes one descriptor per
// record; the prefilter then rewrites each one's verdict, rule and sift result from the rule
// tables in device memory. One run per ingest batch.
#pragma once

#include <cstdint>

#include "prefilter/prefilter.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "tapsift_hls/hls_compat.hpp"

namespace tapsift::hls_kernels {

struct SyslogSiftCounters {
    SyslogParseCounters parse;
    PrefilterCounters prefilter;
    uint64_t bad_tables;  // batches sifted with no rules because the table image was not valid
};

// tables: a wire/prefilter_image.hpp image. counters accumulate across runs.
void syslog_sift(const beat_t *ingest, beat_t *descriptors, int32_t rfc3164_utc_offset_s,
                 const beat_t *tables, SyslogSiftCounters *counters);

}  // namespace tapsift::hls_kernels
