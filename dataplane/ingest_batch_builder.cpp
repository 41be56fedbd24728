#include "ingest_batch_builder.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace tapsift::dataplane {

void IngestBatchBuilder::BeatDeleter::operator()(uint8_t *p) const {
    std::free(p);
}

IngestBatchBuilder::IngestBatchBuilder(uint32_t max_records, Engine engine)
    : buf_(static_cast<uint8_t *>(
          std::aligned_alloc(wire::kBeatBytes, wire::kMaxBatchBeats * wire::kBeatBytes))),
      max_records_(max_records < wire::kMaxRecordsPerBatch ? max_records
                                                           : wire::kMaxRecordsPerBatch),
      engine_(engine) {
    if (!buf_) throw std::bad_alloc();
    reset();
}

void IngestBatchBuilder::reset() {
    records_ = 0;
    beats_ = 1;
    wire::IngestBatchHeader h{};
    h.magic = wire::kIngestMagic;
    h.version = wire::kIngestVersion;
    h.total_beats = 1;
    h.batch_seq = batch_seq_++;
    std::memcpy(buf_.get(), &h, sizeof h);
}

bool IngestBatchBuilder::add(const RecordMeta &meta, const uint8_t *payload, uint32_t len) {
    const uint32_t beats = 1 + wire::payload_beats(len);
    if (records_ >= max_records_ || beats_ + beats > wire::kMaxBatchBeats) return false;
    wire::IngestRecordHeader r{};
    std::memcpy(r.src_addr, meta.src_addr, 16);
    std::memcpy(r.dst_addr, meta.dst_addr, 16);
    r.src_port = meta.src_port;
    r.dst_port = meta.dst_port;
    r.payload_len = static_cast<uint16_t>(len);
    r.kind = static_cast<uint8_t>(meta.kind);
    r.flags = meta.flags;
    r.record_index = records_;
    r.port_id = meta.port_id;
    r.queue_id = meta.queue_id;
    r.arrival_ns = meta.arrival_ns;
    r.packet_seq = meta.packet_seq;
    uint8_t *at = buf_.get() + beats_ * wire::kBeatBytes;
    std::memcpy(at, &r, sizeof r);
    std::memcpy(at + wire::kBeatBytes, payload, len);
    // Zero the pad so the batch bytes are deterministic.
    std::memset(at + wire::kBeatBytes + len, 0, (beats - 1) * wire::kBeatBytes - len);
    beats_ += beats;
    records_++;
    auto *h = reinterpret_cast<wire::IngestBatchHeader *>(buf_.get());
    h->record_count = records_;
    h->total_beats = beats_;
    return true;
}

}  // namespace tapsift::dataplane
