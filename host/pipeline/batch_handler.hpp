// The host side of one lcore's data path: offload backend ► descriptors ► events ► producer.
// Syslog batches are handled here; flow batches by the FlowHandler.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "event/syslog_event.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"
#include "pipeline/flow_handler.hpp"

namespace tapsift::pipeline {

class BatchHandler {
  public:
    // engine_index: this lcore's place in dataplane.lcores (it names the template file).
    BatchHandler(std::unique_ptr<drivers::OffloadBackend> backend, kafka::Producer &producer,
                 const config::Config &cfg, std::string observer_hostname, uint32_t engine_index);

    void handle(const dataplane::IngestBatchBuilder &batch, Counters &counters);
    // Shutdown, after the last batch.
    void finish(Counters &counters) { flows_.finish(counters); }
    const char *backend_name() const { return backend_->name(); }

  private:
    void handle_syslog(const dataplane::IngestBatchBuilder &batch, Counters &counters,
                       std::chrono::steady_clock::time_point deadline);
    void handle_record(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                       const wire::Descriptor &d, Counters &counters,
                       std::chrono::steady_clock::time_point deadline);

    std::unique_ptr<drivers::OffloadBackend> backend_;
    kafka::Producer &producer_;
    std::chrono::milliseconds queue_full_timeout_;
    std::string syslog_topic_;
    event::EventContext event_ctx_;
    std::unique_ptr<uint8_t[]> descriptors_;
    std::string event_json_;
    std::string key_;
    FlowHandler flows_;
};

}  // namespace tapsift::pipeline
