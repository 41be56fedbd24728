// The ingest batch: exactly the bytes the host DMAs to a card (version 1).
//
//   beat 0            IngestBatchHeader
//   per record:       IngestRecordHeader (one beat), then the UDP payload padded to whole beats
//
// All integers are little-endian. Addresses are 16 bytes; IPv4 is stored IPv4-mapped
// (::ffff:a.b.c.d).
#pragma once

#include <cstdint>

namespace tapsift::wire {

constexpr uint32_t kBeatBytes = 64;
constexpr uint32_t kIngestMagic = 0x42495354;  // "TSIB"
constexpr uint16_t kIngestVersion = 1;
constexpr uint32_t kMaxRecordsPerBatch = 256;
constexpr uint32_t kMaxPayloadBytes = 65535;
constexpr uint32_t kMaxBatchBeats = 16384;  // 1 MiB: one DMA buffer / ring slot

enum class RecordKind : uint8_t {
    kUnknown = 0,
    kSyslog = 1,
    kNetflowV5 = 2,
    kNetflowV9 = 3,
    kIpfix = 4,
    kSflowV5 = 5
};

enum RecordFlags : uint8_t {
    kRecordIpv6 = 1u << 0,
    kRecordReassembled = 1u << 1,  // rebuilt from IPv4 fragments
    kRecordTruncated = 1u << 2,    // payload cut at the configured max message size
    kRecordResubmitted = 1u << 3,  // a held flow data set sent again once its template arrived
    kRecordShared = 1u << 4,       // a flow template learned from another gateway (not received)
};

struct IngestBatchHeader {
    uint32_t magic;
    uint16_t version;
    uint16_t reserved0;
    uint32_t record_count;
    uint32_t total_beats;  // including this header beat
    uint64_t batch_seq;
    uint8_t reserved[40];
};

struct IngestRecordHeader {
    uint8_t src_addr[16];
    uint8_t dst_addr[16];
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t payload_len;
    uint8_t kind;   // RecordKind
    uint8_t flags;  // RecordFlags
    uint32_t record_index;
    uint16_t port_id;
    uint16_t queue_id;
    uint64_t arrival_ns;  // UTC, from the NIC timestamp or the host clock
    uint64_t packet_seq;  // per-queue receive sequence number, 1-based
};

static_assert(sizeof(IngestBatchHeader) == kBeatBytes, "batch header is one beat");
static_assert(sizeof(IngestRecordHeader) == kBeatBytes, "record header is one beat");

constexpr uint32_t payload_beats(uint32_t payload_len) {
    return (payload_len + kBeatBytes - 1) / kBeatBytes;
}

}  // namespace tapsift::wire
