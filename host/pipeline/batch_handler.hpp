// The host side of one lcore's data path: offload backend ► descriptors ► events ► producer.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "event/syslog_event.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"

namespace tapsift::pipeline {

struct Topics {
    std::string syslog;
};

class BatchHandler {
  public:
    BatchHandler(std::unique_ptr<drivers::OffloadBackend> backend, kafka::Producer &producer,
                 Topics topics, std::string observer_hostname,
                 std::chrono::milliseconds queue_full_timeout);

    void handle(const dataplane::IngestBatchBuilder &batch, Counters &counters);
    const char *backend_name() const { return backend_->name(); }

  private:
    void handle_record(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                       const wire::Descriptor &d, Counters &counters,
                       std::chrono::steady_clock::time_point deadline);

    std::unique_ptr<drivers::OffloadBackend> backend_;
    kafka::Producer &producer_;
    std::chrono::milliseconds queue_full_timeout_;
    Topics topics_;
    event::EventContext event_ctx_;
    std::unique_ptr<uint8_t[]> descriptors_;
    std::string event_json_;
    std::string key_;
};

}  // namespace tapsift::pipeline
