#include "pipeline/sflow_handler.hpp"

#include <cstring>

#include "event/format.hpp"
#include "event/sflow_event.hpp"
#include "metrics/wall_clock.hpp"
#include "pipeline/count_produced.hpp"
#include "pipeline/ingest_records.hpp"
#include "pipeline/lost_reason.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::pipeline {
namespace {

Malformed malformed_reason(uint8_t reason) {
    switch (static_cast<wire::SflowMalformed>(reason)) {
        case wire::SflowMalformed::kTruncatedHeader:
            return Malformed::kSflowTruncatedHeader;
        case wire::SflowMalformed::kBadAgentType:
            return Malformed::kSflowBadAgentType;
        case wire::SflowMalformed::kBadSampleLength:
            return Malformed::kSflowBadSampleLength;
        case wire::SflowMalformed::kBadRecordLength:
            return Malformed::kSflowBadRecordLength;
        case wire::SflowMalformed::kBadSampleHeader:
            return Malformed::kSflowBadSampleHeader;
        case wire::SflowMalformed::kMissingSamples:
            return Malformed::kSflowMissingSamples;
        default:
            return Malformed::kSflowBadVersion;
    }
}

// An item is used only if it is one the kernel can write: a card gone wrong must not make the
// host count a datagram twice or name a record that is not in the batch.
bool item_valid(const wire::SflowSample &s, uint32_t records) {
    if (s.record_index >= records || s.item > static_cast<uint8_t>(wire::SflowItem::kDatagramDone))
        return false;
    if (s.verdict > static_cast<uint8_t>(wire::Verdict::kUndecided)) return false;
    if (s.item == static_cast<uint8_t>(wire::SflowItem::kDatagramDone))
        return s.malformed_reason < static_cast<uint8_t>(wire::SflowMalformed::kCount);
    return s.verdict != static_cast<uint8_t>(wire::Verdict::kMalformed);
}

}  // namespace

SflowHandler::SflowHandler(kafka::Producer &producer, const config::Config &cfg,
                           sift::Sifter &sifter, FlowHandler &flows)
    : producer_(producer),
      sifter_(sifter),
      flows_(flows),
      topic_(cfg.kafka.flows_topic),
      event_ctx_{"", &cfg.flows.sampling_overrides, cfg.flows.scale_sampled_counts} {}

void SflowHandler::handle(const drivers::BatchResult &result,
                          const drivers::BackendCounters &engine, Counters &counters,
                          std::chrono::steady_clock::time_point deadline) {
    event_ctx_.created = event::format_timestamp(wall_clock_ns());
    wire::IngestBatchHeader header;
    std::memcpy(&header, result.ingest, sizeof header);
    const uint32_t records = header.record_count;
    record_offsets_.clear();
    for_each_ingest_record(result.ingest, records,
                           [&](uint32_t, const wire::IngestRecordHeader &, uint32_t beat) {
                               record_offsets_.push_back(beat);
                           });
    done_.assign(records, 0);
    const uint32_t n = result.status == drivers::BatchStatus::kDone ? result.outputs : 0;
    uint32_t current = records;  // the datagram whose samples are being numbered
    uint32_t sample_in_datagram = 0;
    for (uint32_t k = 0; k < n; ++k) {
        wire::SflowSample s;
        std::memcpy(&s, result.output + size_t(k) * wire::kSflowItemBytes, sizeof s);
        if (!item_valid(s, records) || done_[s.record_index]) {
            counters.sflow.invalid_items++;
            continue;
        }
        wire::IngestRecordHeader rec;
        std::memcpy(&rec, result.ingest + record_offsets_[s.record_index] * wire::kBeatBytes,
                    sizeof rec);
        if (s.item == static_cast<uint8_t>(wire::SflowItem::kDatagramDone)) {
            done_[s.record_index] = 1;
            counters.sflow.samples_lost += s.items_lost;
            if (s.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed)) {
                counters.count(malformed_reason(s.malformed_reason));
            } else {
                counters.sflow_packets++;
            }
            continue;
        }
        if (s.record_index != current) {
            current = s.record_index;
            sample_in_datagram = 0;
        }
        counters.sflow.samples++;
        (s.item == static_cast<uint8_t>(wire::SflowItem::kFlowSample)
             ? counters.sflow.flow_samples
             : counters.sflow.counter_samples)++;
        const sift::SiftDecision &decision = sifter_.decide_sflow(s);
        if (decision.drop) {
            counters.sflow.filtered++;
        } else if (!flows_.fold_sflow_sample(rec, s, decision, counters, deadline)) {
            produce_sample(rec, s, sample_in_datagram, decision, counters, deadline);
        }
        sample_in_datagram++;
    }
    // A datagram the device did not close (it failed, timed out, or returned too little) is
    // lost: counted.
    const Dropped lost = lost_reason(result.status);
    for (uint32_t i = 0; i < records; ++i) {
        if (!done_[i]) counters.count(lost);
    }
    counters.sflow.engine = engine.sflow;
}

void SflowHandler::produce_sample(const wire::IngestRecordHeader &datagram,
                                  const wire::SflowSample &sample, uint32_t sample_in_datagram,
                                  const sift::SiftDecision &decision, Counters &counters,
                                  std::chrono::steady_clock::time_point deadline) {
    key_ = event::address_text(datagram.src_addr).view();  // per-exporter order, as flows
    const event::AssembledSflowEvent ev =
        event::assemble_sflow_event({datagram, sample, sample_in_datagram, &decision.annotations},
                                    key_, event_ctx_, event_json_);
    if (ev.sampling_overridden) counters.sflow.sampling_overridden++;
    const std::string &topic = decision.topic ? *decision.topic : topic_;
    if (decision.topic) counters.routed++;
    if (!decision.annotations.threats.empty()) counters.threat_matches++;
    count_produced(producer_.produce(deadline, topic, key_.data(), key_.size(), event_json_.data(),
                                     event_json_.size()),
                   counters.sflow, counters);
}

}  // namespace tapsift::pipeline
