// The host side of sFlow: a collected sFlow batch's items (flow_sift ran sflow_parse and the
// prefilter on the card side) ► the host sifting stage ► sFlow events ► the flows topic. sFlow
// keeps no state between batches, so this is all there is to it.
#pragma once

#include <chrono>
#include <string>

#include "config/config.hpp"
#include "event/flow_event.hpp"
#include "kafka/producer.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"
#include "pipeline/flow_handler.hpp"
#include "sift/sifter.hpp"

namespace tapsift::pipeline {

class SflowHandler {
  public:
    // flows: this lcore's flow handler, whose aggregates (flows.aggregate) fold flow samples too.
    SflowHandler(kafka::Producer &producer, const config::Config &cfg, sift::Sifter &sifter,
                 FlowHandler &flows);

    // A collected sFlow batch: each sample becomes an event (unless a rule drops it), each
    // datagram ends decoded or malformed; a datagram the device did not close is counted lost.
    void handle(const drivers::BatchResult &result, const drivers::BackendCounters &engine,
                Counters &counters, std::chrono::steady_clock::time_point deadline);

  private:
    void produce_sample(const wire::IngestRecordHeader &datagram, const wire::SflowSample &sample,
                        uint32_t sample_in_datagram, const sift::SiftDecision &decision,
                        Counters &counters, std::chrono::steady_clock::time_point deadline);

    kafka::Producer &producer_;
    sift::Sifter &sifter_;
    FlowHandler &flows_;
    std::string topic_;
    event::FlowEventContext event_ctx_;
    std::vector<uint32_t> record_offsets_;  // beat offset of each record in the batch
    std::vector<uint8_t> done_;             // per record: its kDatagramDone came back
    std::string event_json_;
    std::string key_;
};

}  // namespace tapsift::pipeline
