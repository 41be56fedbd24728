// Packs UDP payloads into one ingest batch (hls-kernels/wire/ingest_batch.hpp): the bytes a card
// receives by DMA. The buffer is owned by the builder and reused batch after batch.
#pragma once

#include <cstdint>
#include <memory>

#include "wire/ingest_batch.hpp"

namespace tapsift::dataplane {

struct RecordMeta {
    const uint8_t *src_addr;  // 16 bytes
    const uint8_t *dst_addr;  // 16 bytes
    uint16_t src_port;
    uint16_t dst_port;
    wire::RecordKind kind;
    uint8_t flags;
    uint16_t port_id;
    uint16_t queue_id;
    uint64_t arrival_ns;
    uint64_t packet_seq;
};

// Which decoder a batch is for: a batch carries syslog, NetFlow/IPFIX or sFlow datagrams, never
// two of them. NetFlow/IPFIX and sFlow batches both go to the flow compute unit (flow_sift), which
// runs the decoder the batch's record kind names.
enum class Engine : uint8_t { kSyslog, kFlow, kSflow };

class IngestBatchBuilder {
  public:
    explicit IngestBatchBuilder(uint32_t max_records, Engine engine = Engine::kSyslog);

    // False when the record does not fit: flush the batch and add it again.
    bool add(const RecordMeta &meta, const uint8_t *payload, uint32_t len);
    void reset();

    Engine engine() const { return engine_; }
    bool empty() const { return records_ == 0; }
    uint32_t records() const { return records_; }
    const uint8_t *data() const { return buf_.get(); }
    uint32_t size_bytes() const { return beats_ * wire::kBeatBytes; }

  private:
    struct BeatDeleter {
        void operator()(uint8_t *p) const;
    };
    std::unique_ptr<uint8_t, BeatDeleter> buf_;
    uint32_t max_records_;
    Engine engine_;
    uint32_t records_ = 0;
    uint32_t beats_ = 1;
    uint64_t batch_seq_ = 0;
};

}  // namespace tapsift::dataplane
