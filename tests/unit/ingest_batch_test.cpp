#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ingest_batch_builder.hpp"

namespace tapsift::dataplane {
namespace {

const uint8_t kAddr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};

RecordMeta meta(uint64_t seq) {
    return RecordMeta{kAddr, kAddr, 1000, 514, wire::RecordKind::kSyslog, 0, 3, 1, 42, seq};
}

TEST(IngestBatch, LayoutIsHeaderThenRecordBeatThenPaddedPayload) {
    IngestBatchBuilder b(wire::kMaxRecordsPerBatch);
    const std::string p1(65, 'x');  // two beats
    const std::string p2 = "y";
    ASSERT_TRUE(b.add(meta(1), reinterpret_cast<const uint8_t *>(p1.data()), 65));
    ASSERT_TRUE(b.add(meta(2), reinterpret_cast<const uint8_t *>(p2.data()), 1));
    EXPECT_EQ(b.size_bytes(), wire::kBeatBytes * (1 + 1 + 2 + 1 + 1));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u) << "beats are 64-byte aligned";
    wire::IngestBatchHeader h;
    std::memcpy(&h, b.data(), sizeof h);
    EXPECT_EQ(h.magic, wire::kIngestMagic);
    EXPECT_EQ(h.version, wire::kIngestVersion);
    EXPECT_EQ(h.record_count, 2u);
    EXPECT_EQ(h.total_beats, 6u);
    wire::IngestRecordHeader r;
    std::memcpy(&r, b.data() + 4 * wire::kBeatBytes, sizeof r);
    EXPECT_EQ(r.record_index, 1u);
    EXPECT_EQ(r.payload_len, 1u);
    EXPECT_EQ(r.packet_seq, 2u);
    EXPECT_EQ(r.port_id, 3u);
    EXPECT_EQ(r.queue_id, 1u);
    EXPECT_EQ(b.data()[5 * wire::kBeatBytes], 'y');
    EXPECT_EQ(b.data()[5 * wire::kBeatBytes + 1], 0) << "padding is zeroed";
}

TEST(IngestBatch, FullBatchRefusesAndResetStartsOver) {
    IngestBatchBuilder b(2);
    const uint8_t p = 'z';
    EXPECT_TRUE(b.add(meta(1), &p, 1));
    EXPECT_TRUE(b.add(meta(2), &p, 1));
    EXPECT_FALSE(b.add(meta(3), &p, 1));
    b.reset();
    EXPECT_TRUE(b.empty());
    EXPECT_TRUE(b.add(meta(3), &p, 1));
}

TEST(IngestBatch, LargestPayloadFitsAnEmptyBatch) {
    IngestBatchBuilder b(wire::kMaxRecordsPerBatch);
    const std::string big(wire::kMaxPayloadBytes, 'q');
    EXPECT_TRUE(
        b.add(meta(1), reinterpret_cast<const uint8_t *>(big.data()), wire::kMaxPayloadBytes));
    int added = 1;
    while (b.add(meta(2), reinterpret_cast<const uint8_t *>(big.data()), wire::kMaxPayloadBytes))
        ++added;
    EXPECT_EQ(added, static_cast<int>((wire::kMaxBatchBeats - 1) /
                                      (1 + wire::payload_beats(wire::kMaxPayloadBytes))));
}

}  // namespace
}  // namespace tapsift::dataplane
