// The host side of one lcore's flow engine: flow items ► events ► producer, the data sets that
// wait for their template, the host's copy of the engine's templates (kept from the change
// items; the engine's own memory is never read), and the template file.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "event/flow_event.hpp"
#include "flow/aggregator.hpp"
#include "flow/pending_sets.hpp"
#include "flow/template_mirror.hpp"
#include "flow/template_sharing.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"
#include "sift/sifter.hpp"

namespace tapsift::pipeline {

class FlowHandler {
  public:
    // engine_index names this engine's template file (one per lcore) and its template-sharing
    // inbox; sharing: flows.template_sharing, or nullptr when it is off.
    FlowHandler(drivers::OffloadBackend &backend, kafka::Producer &producer,
                const config::Config &cfg, uint32_t engine_index, sift::Sifter &sifter,
                flow::TemplateSharing *sharing = nullptr);

    // A collected flow batch: its items become events. Returns the held sets that its templates
    // made decodable, as a batch to offload again (nullptr when there are none).
    const dataplane::IngestBatchBuilder *handle(const drivers::BatchResult &result,
                                                Counters &counters,
                                                std::chrono::steady_clock::time_point deadline);
    // Templates other gateways shared that this engine does not hold yet, as a batch of
    // datagrams to offload (nullptr when there are none): installed like templates from the wire.
    const dataplane::IngestBatchBuilder *shared_templates(Counters &counters);
    // Aggregation mode (flows.aggregate): folds an sFlow flow sample the rules kept into the
    // same aggregates as flow records. False when it is not folded (aggregation off, a counter
    // sample, or a sample a rule routes, tags or matches threat intelligence for): produce it.
    bool fold_sflow_sample(const wire::IngestRecordHeader &datagram,
                           const wire::SflowSample &sample, const sift::SiftDecision &decision,
                           Counters &counters, std::chrono::steady_clock::time_point deadline);
    // While idle: aggregation windows end by flow time moved on by the host's clock.
    void idle(Counters &counters, std::chrono::steady_clock::time_point deadline);
    // Shutdown: emits the open aggregates, saves the templates and counts the sets still waiting.
    void finish(Counters &counters, std::chrono::steady_clock::time_point deadline);

  private:
    // Returns how many templates the batch taught the engine (learned or replaced).
    uint32_t handle_items(const drivers::BatchResult &result, uint32_t records, Counters &counters,
                          std::chrono::steady_clock::time_point deadline);
    void produce_record(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                        const wire::FlowDescriptor &item, uint32_t record_in_datagram,
                        const sift::SiftDecision &decision, Counters &counters,
                        std::chrono::steady_clock::time_point deadline);
    void fold_record(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                     const wire::FlowDescriptor &item, const wire::TemplateField *fields,
                     uint32_t field_count, Counters &counters,
                     std::chrono::steady_clock::time_point deadline);
    void save_templates(Counters &counters);
    void apply_change(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                      const uint8_t *item, Counters &counters);
    // A template learned from the wire (a kTemplateLearned/Replaced change item), to the topic.
    void publish_learned(const uint8_t *item, const uint8_t *payload, Counters &counters);
    // A template the wire said again (kTemplateRefreshed), to the topic when it is due.
    void publish_refresh(const uint8_t *item, Counters &counters);
    // t (its definition filled in) under c's key and time; false when the producer refused it.
    bool publish(const wire::FlowStoreChange &c, flow::SharedTemplate &t, Counters &counters);
    // Whether the engine should learn t: not when it holds the same definition seen no earlier
    // (a later copy refreshes it), or another one it learned no earlier (the wire wins over an
    // older shared one). Counted when it should not.
    bool should_install(const flow::SharedTemplate &t, Counters &counters) const;
    // A shared template's datagram came back: change is the template item it made (0: none).
    static void count_shared_outcome(uint8_t change, Counters &counters);
    bool arrived_too_late(const wire::IngestRecordHeader &datagram,
                          const wire::FlowDescriptor &item) const;
    // The number (tapsift.flow_record) record's first record takes: 0 for a datagram as received;
    // for a held set, the records before it in its datagram, those decoded on arrival and those of
    // the sets held with it that were decoded just before it in this batch.
    uint32_t first_number(uint32_t record, const uint8_t *batch) const;
    // A resubmitted record's first_record, from the sets sent round again (in_flight_).
    uint32_t take_first_record(const wire::IngestRecordHeader &rec);

    drivers::OffloadBackend &backend_;
    kafka::Producer &producer_;
    sift::Sifter &sifter_;
    std::string topic_;
    std::string template_path_;  // empty: templates are not saved
    std::chrono::seconds save_interval_;
    std::chrono::steady_clock::time_point last_save_;
    int64_t pending_timeout_ns_;
    flow::TemplateMirror mirror_;
    flow::PendingSets pending_;
    std::unique_ptr<dataplane::IngestBatchBuilder> resubmit_;
    flow::TemplateSharing *sharing_;
    uint32_t engine_index_;
    std::vector<flow::SharedTemplate> shared_waiting_;  // taken from the inbox, not yet offloaded
    std::unique_ptr<dataplane::IngestBatchBuilder> shared_batch_;
    event::FlowEventContext event_ctx_;
    std::vector<uint32_t> record_offsets_;  // beat offset of each record in the batch
    std::vector<uint8_t> done_;             // per record: its kPacketDone came back
    std::vector<uint8_t> came_back_;        // per resubmitted record: its set is still waiting
    std::vector<uint8_t> too_late_;         // per resubmitted record: its template came too late
    std::vector<uint8_t> shared_change_;    // per shared template record: the change it made
    std::vector<uint32_t> held_first_;      // per resubmitted record: its set's first_record
    std::vector<uint32_t> numbered_;        // per record: how many of its records were numbered
    // Sets sent round again, in submission order (the order they come back in): which datagram
    // each came from and its first_record.
    struct InFlight {
        uint16_t port_id, queue_id;
        uint64_t packet_seq;
        uint32_t first_record;
    };
    std::deque<InFlight> in_flight_;
    std::vector<uint32_t> moved_first_;  // scratch: move_ready's first_records
    int64_t newest_arrival_ns_ = 0;      // pending sets age by the data's own clock
    uint64_t restored_templates_ = 0;
    uint64_t resubmit_budget_ = 0;  // held sets that may still go round for the last templates
    std::unique_ptr<flow::Aggregator> aggregator_;     // flows.aggregate.enabled
    std::chrono::steady_clock::time_point last_fold_;  // the last batch handled
    std::string event_json_;
    std::string key_;
};

}  // namespace tapsift::pipeline
