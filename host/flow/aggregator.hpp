// Aggregation mode (flows.aggregate): flow records folded over a window of flow time by a
// configurable key, as nfacctd's sql_history with timestamps from the records. One event per key
// and window carries the sums of bytes and packets (scaled by the sampling rate as per-record
// events are) and the number of records folded.
//
// Time is the records' own: a record falls in the window of its end time (else its start, else
// its datagram's export time), so a replay folds the same way however fast it runs. The newest
// such time seen is the watermark; a window is emitted once the watermark passes its end by
// flows.aggregate.grace_s. A record for a window already emitted starts a new aggregate for that
// window (counted as late): consumers sum the events of one key and window. While no records come,
// the caller moves flow time on by the host's clock (advance), so a quiet tap's windows still end.
//
// Memory is one table of flows.aggregate.max_keys entries, allocated up front (open addressing).
// A record with a new key when the table is full flushes the whole table early (every aggregate
// emitted before its window closed, counted), then is folded: nothing is dropped for room.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "flow/aggregate_event.hpp"
#include "flow/aggregate_key.hpp"
#include "metrics/counters.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/flow_template.hpp"

namespace tapsift::flow {

struct AggregatorConfig {
    int64_t window_ns;
    int64_t grace_ns;
    uint32_t max_keys;
    uint32_t fields;  // field_bit() of each AggregateField in the key
    uint8_t ipv4_prefix_length;
    uint8_t ipv6_prefix_length;
};

AggregatorConfig aggregator_config(const config::FlowAggregate &cfg);

// One record to fold: its descriptor, the template naming its fields (nullptr: core fields only),
// and its counts already scaled by the sampling rate.
struct AggregateInput {
    const wire::FlowDescriptor &item;
    const uint8_t *record;  // the record's bytes
    const wire::TemplateField *fields;
    uint32_t field_count;
    const uint8_t *exporter;  // the datagram's source address
    int64_t arrival_ns;
    uint64_t scale;  // sampling: 1 when counts are not scaled
};

// Where emitted aggregates go (the handler produces them).
class AggregateSink {
  public:
    // kafka_key: the exporter's address when the key holds it, else empty.
    virtual void emit(std::string_view kafka_key, const std::string &json, uint64_t records) = 0;

  protected:
    ~AggregateSink() = default;
};

class Aggregator {
  public:
    explicit Aggregator(const AggregatorConfig &cfg);

    // Folds one record; emits the windows its time closes, or the whole table when it is full.
    void fold(const AggregateInput &in, const std::string &created, AggregateCounters &counters,
              AggregateSink &sink);
    // Flow time moved on to now_ns without a record (the caller's estimate while the tap is
    // quiet): the windows it closes are emitted.
    void advance(int64_t now_ns, const std::string &created, AggregateCounters &counters,
                 AggregateSink &sink);
    // Shutdown: every open aggregate is emitted.
    void flush_all(const std::string &created, AggregateCounters &counters, AggregateSink &sink);

    uint32_t open_keys() const { return used_; }
    int64_t watermark_ns() const { return watermark_ns_; }

  private:
    struct Entry {
        AggregateKey key;
        uint64_t bytes;
        uint64_t packets;
        uint64_t records;  // 0: the slot is free
    };

    AggregateKey key_of(const AggregateInput &in, int64_t window_start_ns) const;
    Entry &slot_for(const AggregateKey &key);
    // Removes the entries emit_if emits (it returns true for them); the rest stay.
    template <typename Emit>
    void sweep(Emit &&emit_if);
    void emit(const Entry &e, AggregateFlush why, const std::string &created,
              AggregateCounters &counters, AggregateSink &sink);

    AggregatorConfig cfg_;
    std::vector<Entry> table_;  // a power of two, at least twice max_keys
    std::vector<Entry> kept_;   // sweep's survivors, before they are placed again
    uint64_t mask_;
    uint32_t used_ = 0;
    int64_t watermark_ns_ = INT64_MIN;
    int64_t closed_before_ = INT64_MIN;  // windows starting before this are closed
    std::string json_;
    std::string kafka_key_;
};

}  // namespace tapsift::flow
