// Where a flow record's or an sFlow sample's event ended, by what the producer said: one place
// for the identity's produced / dropped_queue_full / dropped_produce_error terms.
#pragma once

#include "kafka/producer.hpp"
#include "metrics/counters.hpp"

namespace tapsift::pipeline {

// RecordCounters: FlowCounters or SflowCounters.
template <typename RecordCounters>
void count_produced(kafka::ProduceResult result, RecordCounters &records, Counters &counters) {
    switch (result) {
        case kafka::ProduceResult::kAccepted:
            records.produced++;
            break;
        case kafka::ProduceResult::kSpooled:
            records.produced++;
            counters.produced_to_spool++;
            break;
        case kafka::ProduceResult::kQueueFull:
            records.dropped_queue_full++;
            break;
        case kafka::ProduceResult::kError:
            records.dropped_produce_error++;
            break;
    }
}

}  // namespace tapsift::pipeline
