// Event assembly for aggregation mode: one aggregate ► one ECS-shaped JSON document, with the
// per-record events' field names for the key fields and the sums (event.kind "metric").
#pragma once

#include <cstdint>
#include <string>

#include "flow/aggregate_key.hpp"

namespace tapsift::flow {

// Why an aggregate was emitted (tapsift.aggregate.flushed).
enum class AggregateFlush : uint8_t { kWindowClosed, kTableFull, kShutdown };

struct AggregateTotals {
    uint64_t bytes;
    uint64_t packets;
    uint64_t records;
};

// Appends the event to out (cleared first). fields: field_bit() of each field in the key.
void assemble_aggregate_event(const AggregateKey &key, uint32_t fields, int64_t window_ns,
                              const AggregateTotals &totals, AggregateFlush why,
                              const std::string &created, std::string &out);

}  // namespace tapsift::flow
