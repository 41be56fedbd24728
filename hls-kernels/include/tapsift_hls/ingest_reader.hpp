// What every kernel does at its edges: check the ingest batch header, read a record header, copy
// a payload from beats into local memory, and write a result struct out as beats.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tapsift_hls/hls_compat.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::hls_kernels {

constexpr uint32_t kMaxPayloadBeats =
    (wire::kMaxPayloadBytes + wire::kBeatBytes - 1) / wire::kBeatBytes;
constexpr uint32_t kMaxPayloadBufferBytes = kMaxPayloadBeats * wire::kBeatBytes;

inline uint32_t load_le(const uint8_t *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

struct BatchHeader {
    uint32_t record_count;
    uint32_t total_beats;
};

// False when the magic or version is wrong: the batch is not ours.
inline bool read_batch_header(const beat_t *ingest, BatchHeader &h) {
    uint8_t head[wire::kBeatBytes];
    beat_to_bytes(ingest[0], head);
    if (load_le(head, 4) != wire::kIngestMagic || load_le(head + 4, 2) != wire::kIngestVersion)
        return false;
    h.record_count = load_le(head + 8, 4);
    h.total_beats = load_le(head + 12, 4);
    return true;
}

struct RecordHeader {
    uint8_t src_addr[16];
    uint8_t dst_addr[16];
    uint32_t payload_len;
    uint8_t kind;
    uint8_t flags;
    int64_t arrival_ns;
};

inline void read_record_header(const beat_t &beat, RecordHeader &r) {
    uint8_t rec[wire::kBeatBytes];
    beat_to_bytes(beat, rec);
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        r.src_addr[i] = rec[offsetof(wire::IngestRecordHeader, src_addr) + i];
        r.dst_addr[i] = rec[offsetof(wire::IngestRecordHeader, dst_addr) + i];
    }
    r.payload_len = load_le(rec + offsetof(wire::IngestRecordHeader, payload_len), 2);
    r.kind = rec[offsetof(wire::IngestRecordHeader, kind)];
    r.flags = rec[offsetof(wire::IngestRecordHeader, flags)];
    const uint32_t at = offsetof(wire::IngestRecordHeader, arrival_ns);
    r.arrival_ns = static_cast<int64_t>((static_cast<uint64_t>(load_le(rec + at + 4, 4)) << 32) |
                                        load_le(rec + at, 4));
}

// Copies a record's payload into local memory, one beat per iteration; returns the beats read.
inline uint32_t copy_payload(const beat_t *beats, uint32_t len, uint8_t *bytes) {
    const uint32_t n_beats = wire::payload_beats(len);
    for (uint32_t b = 0; b < kMaxPayloadBeats; ++b) {
#pragma HLS PIPELINE II = 1
        if (b >= n_beats) break;
        beat_to_bytes(beats[b], &bytes[b * wire::kBeatBytes]);
    }
    return n_beats;
}

// Writes a result struct (a whole number of beats) to out.
template <typename T>
void write_beats(const T &value, beat_t *out) {
    static_assert(sizeof(T) % wire::kBeatBytes == 0, "results are whole beats");
    uint8_t bytes[sizeof(T)];
    __builtin_memcpy(bytes, &value, sizeof value);
    for (uint32_t b = 0; b < sizeof(T) / wire::kBeatBytes; ++b) {
#pragma HLS PIPELINE II = 1
        beat_t beat;
        bytes_to_beat(&bytes[b * wire::kBeatBytes], beat);
        out[b] = beat;
    }
}

}  // namespace tapsift::hls_kernels
