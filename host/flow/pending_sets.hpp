// Data sets that arrived before their template, held per exporter within a byte budget. When a
// batch teaches the kernel new templates, they go back through it as datagrams of their own
// (flagged kRecordResubmitted, so they are not counted as received twice).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <vector>

#include "ingest_batch_builder.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::flow {

struct PendingLimits {
    uint64_t max_bytes;
    uint64_t max_bytes_per_exporter;
    int64_t timeout_ns;
};

class PendingSets {
  public:
    explicit PendingSets(PendingLimits limits) : limits_(limits) {}

    // Holds the set at `set` in this datagram; first_record: the number (tapsift.flow_record) its
    // first record takes, the datagram's records before it. False when it does not fit the budget.
    bool hold(const wire::IngestRecordHeader &datagram, const uint8_t *payload, wire::Span set,
              uint32_t first_record);
    // Drops sets held longer than the timeout (by the arrival of their datagram); returns how many.
    uint64_t expire(int64_t now_ns);
    // What a held set waits for.
    struct Key {
        std::array<uint8_t, 16> exporter;
        uint32_t domain;
        uint16_t template_id;
    };
    // Moves the held sets for which ready(key) holds (as many as fit) into batch, oldest first,
    // appending each one's first_record to first_records; returns how many. The others stay, in
    // order.
    uint32_t move_ready(dataplane::IngestBatchBuilder &batch,
                        const std::function<bool(const Key &)> &ready,
                        std::vector<uint32_t> &first_records);
    // Empties the store (shutdown); returns how many sets it held.
    uint64_t clear();

    bool empty() const { return sets_.empty(); }
    uint64_t size() const { return sets_.size(); }
    uint64_t bytes() const { return bytes_; }

  private:
    struct HeldSet {
        wire::IngestRecordHeader datagram;  // the original's, payload_len aside
        std::vector<uint8_t> payload;       // the datagram's header, then the one set
        Key key;
        uint32_t first_record;
    };
    using Exporter = std::array<uint8_t, 16>;

    void forget(const HeldSet &s);

    PendingLimits limits_;
    std::deque<HeldSet> sets_;  // oldest first
    std::map<Exporter, uint64_t> exporter_bytes_;
    uint64_t bytes_ = 0;
};

}  // namespace tapsift::flow
