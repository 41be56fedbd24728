// The host side of one lcore's data path: offload backend ► prefilter ► host sifting stage ►
// events ► (dedup) ► producer. Syslog batches are handled here; flow batches by the FlowHandler,
// sFlow batches by the SflowHandler.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "event/cef_leef.hpp"
#include "event/syslog_event.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "metrics/counters.hpp"
#include "metrics/lcore_breakdown.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_timer.hpp"
#include "pipeline/flow_handler.hpp"
#include "pipeline/sflow_handler.hpp"
#include "sift/dedup_table.hpp"
#include "sift/sifter.hpp"

namespace tapsift::pipeline {

class BatchHandler {
  public:
    // engine_index: this lcore's place in dataplane.lcores (it names the template file and the
    // template-sharing inbox). sharing: flows.template_sharing, nullptr when off.
    BatchHandler(std::unique_ptr<drivers::OffloadBackend> backend, kafka::Producer &producer,
                 const config::Config &cfg, std::string observer_hostname, uint32_t engine_index,
                 const sift::RulesetSource &rules, flow::TemplateSharing *sharing = nullptr);

    // Offloads the batch; collects and handles what the backend has finished meanwhile.
    void handle(const dataplane::IngestBatchBuilder &batch, Counters &counters);
    // While idle: every batch in flight is collected; dedup and flow aggregation windows that
    // have ended are emitted.
    void idle(Counters &counters);
    // Shutdown, after the last batch.
    void finish(Counters &counters);
    const drivers::BackendCounters &backend_counters() const { return backend_->counters(); }
    const char *backend_name() const { return backend_->name(); }
    const sift::Sifter &sifter() const { return sifter_; }
    // The per rule, per source and batch time figures (the RX queues are the RX loop's).
    void fill_breakdown(LcoreBreakdown &out) const;

  private:
    // Waits for room in the backend's ring when it is full (counted as offload_ring_full).
    void submit(drivers::BatchKind kind, const uint8_t *ingest, uint32_t bytes, Counters &counters,
                std::chrono::steady_clock::time_point deadline);
    void submit_shared_templates(Counters &counters,
                                 std::chrono::steady_clock::time_point deadline);
    bool collect(bool wait, Counters &counters, std::chrono::steady_clock::time_point deadline);
    void drain(Counters &counters, std::chrono::steady_clock::time_point deadline);
    // A reload's tables go to the device between batches, once those in flight are handled.
    void take_reload(Counters &counters, std::chrono::steady_clock::time_point deadline);
    void load_tables();
    void handle_syslog(const drivers::BatchResult &result, Counters &counters,
                       std::chrono::steady_clock::time_point deadline);
    void handle_record(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                       const wire::Descriptor &d, Counters &counters,
                       std::chrono::steady_clock::time_point deadline);
    void produce(const std::string &topic, std::string_view key, std::string_view json,
                 Counters &counters, std::chrono::steady_clock::time_point deadline);
    void emit_folded(sift::DedupClosed &&closed, Counters &counters,
                     std::chrono::steady_clock::time_point deadline);
    int64_t dedup_now_ns() const;

    std::unique_ptr<drivers::OffloadBackend> backend_;
    kafka::Producer &producer_;
    std::chrono::milliseconds queue_full_timeout_;
    std::string syslog_topic_;
    event::EventContext event_ctx_;
    std::string event_json_;
    std::string key_;
    sift::Sifter sifter_;
    event::SecEvent sec_;
    std::optional<sift::DedupTable> dedup_;
    std::string dedup_key_;
    std::string held_;
    std::string folded_json_;
    // Dedup windows run on packet arrival time; while idle, that clock is advanced by the host's.
    int64_t newest_arrival_ns_ = 0;
    std::chrono::steady_clock::time_point newest_arrival_seen_;
    FlowHandler flows_;
    SflowHandler sflows_;
    TopSources syslog_senders_;
    TopSources flow_exporters_;
    BatchTimer batch_timer_;
    DurationHistogram syslog_batch_time_;
    DurationHistogram flow_batch_time_;
};

}  // namespace tapsift::pipeline
