// Walks an ingest batch's records in order: the one place the host reads the batch layout
// (hls-kernels/wire/ingest_batch.hpp: a header beat, then each record's header beat and payload).
#pragma once

#include <cstdint>
#include <cstring>

#include "wire/ingest_batch.hpp"

namespace tapsift::pipeline {

// Calls visit(index, header, beat) for each of the first `records` records; beat is the record
// header's beat number (the batch header is beat 0, the payload starts at beat + 1).
template <typename Visit>
void for_each_ingest_record(const uint8_t *batch, uint32_t records, Visit &&visit) {
    uint32_t beat = 1;
    for (uint32_t i = 0; i < records; ++i) {
        wire::IngestRecordHeader rec;
        std::memcpy(&rec, batch + size_t{beat} * wire::kBeatBytes, sizeof rec);
        visit(i, rec, beat);
        beat += 1 + wire::payload_beats(rec.payload_len);
    }
}

}  // namespace tapsift::pipeline
