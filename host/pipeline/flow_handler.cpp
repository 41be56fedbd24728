#include "pipeline/flow_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "event/format.hpp"
#include "flow/template_file.hpp"
#include "flow_parse/template_record.hpp"
#include "flow_parse/template_store.hpp"
#include "metrics/wall_clock.hpp"
#include "pipeline/count_produced.hpp"
#include "pipeline/ingest_records.hpp"
#include "pipeline/lost_reason.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/flow_store_change.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::pipeline {
namespace {

Malformed malformed_reason(uint8_t reason) {
    switch (static_cast<wire::FlowMalformed>(reason)) {
        case wire::FlowMalformed::kTruncatedHeader:
            return Malformed::kFlowTruncatedHeader;
        case wire::FlowMalformed::kBadLength:
            return Malformed::kFlowBadLength;
        case wire::FlowMalformed::kBadSetLength:
            return Malformed::kFlowBadSetLength;
        default:
            return Malformed::kFlowBadVersion;
    }
}

// An item is used only if it is one the kernel can write: a card gone wrong must not make the
// host read outside the datagram.
bool item_valid(const wire::FlowDescriptor &d, uint32_t records, const uint8_t *batch,
                const std::vector<uint32_t> &offsets) {
    if (d.record_index >= records ||
        d.item > static_cast<uint8_t>(wire::FlowItem::kExporterOptionsEvicted))
        return false;
    if (d.item == static_cast<uint8_t>(wire::FlowItem::kPacketDone))
        return d.malformed_reason < static_cast<uint8_t>(wire::FlowMalformed::kCount);
    wire::IngestRecordHeader rec;
    std::memcpy(&rec, batch + offsets[d.record_index] * wire::kBeatBytes, sizeof rec);
    if (uint32_t{d.record.off} + d.record.len > rec.payload_len) return false;
    return d.template_slot == wire::kNoTemplateSlot || d.template_slot < wire::kTemplateSlots;
}

// Aggregate events go to the flows topic, counted apart from per-record events.
class AggregateProducer final : public flow::AggregateSink {
  public:
    AggregateProducer(kafka::Producer &producer, const std::string &topic, Counters &counters,
                      std::chrono::steady_clock::time_point deadline)
        : producer_(producer), topic_(topic), counters_(counters), deadline_(deadline) {}

    void emit(std::string_view key, const std::string &json, uint64_t records) override {
        AggregateCounters &a = counters_.flow.aggregate;
        switch (producer_.produce(deadline_, topic_, key.data(), key.size(), json.data(),
                                  json.size())) {
            case kafka::ProduceResult::kSpooled:
                counters_.produced_to_spool++;
                [[fallthrough]];
            case kafka::ProduceResult::kAccepted:
                a.produced++;
                a.records_produced += records;
                break;
            case kafka::ProduceResult::kQueueFull:
            case kafka::ProduceResult::kError:
                a.dropped++;
                a.records_dropped += records;
                break;
        }
    }

  private:
    kafka::Producer &producer_;
    const std::string &topic_;
    Counters &counters_;
    std::chrono::steady_clock::time_point deadline_;
};

// Aggregation folds flows; options data, and records a rule routes, tags or matches threat
// intelligence for, stay events of their own.
bool folds(const wire::FlowDescriptor &item, const sift::SiftDecision &decision) {
    return !(item.flags & wire::kFlowOptions) && !decision.topic &&
           decision.annotations.tags.empty() && decision.annotations.threats.empty();
}

}  // namespace

FlowHandler::FlowHandler(drivers::OffloadBackend &backend, kafka::Producer &producer,
                         const config::Config &cfg, uint32_t engine_index, sift::Sifter &sifter,
                         flow::TemplateSharing *sharing)
    : backend_(backend),
      producer_(producer),
      sifter_(sifter),
      topic_(cfg.kafka.flows_topic),
      template_path_(cfg.flows.template_dir.empty()
                         ? ""
                         : flow::template_file_path(cfg.flows.template_dir, engine_index)),
      save_interval_(cfg.flows.template_save_interval_s),
      last_save_(std::chrono::steady_clock::now()),
      pending_timeout_ns_(int64_t{cfg.flows.pending_timeout_ms} * 1000000),
      pending_({cfg.flows.pending_max_bytes, cfg.flows.pending_max_bytes_per_exporter,
                pending_timeout_ns_}),
      resubmit_(std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch,
                                                                dataplane::Engine::kFlow)),
      sharing_(sharing),
      engine_index_(engine_index),
      shared_batch_(sharing ? std::make_unique<dataplane::IngestBatchBuilder>(
                                  wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow)
                            : nullptr),
      event_ctx_{"", &cfg.flows.sampling_overrides, cfg.flows.scale_sampled_counts} {
    if (cfg.flows.aggregate.enabled) {
        aggregator_ =
            std::make_unique<flow::Aggregator>(flow::aggregator_config(cfg.flows.aggregate));
    }
    const flow::RestoreResult r =
        flow::restore_templates(cfg.flows.template_dir, mirror_.state_before_first_batch());
    restored_templates_ = r.templates;
    // Into the engine once, before its first batch; from then on it keeps them itself.
    if (r.templates + r.exporter_options > 0 && !backend_.load_flow_state(mirror_.state())) {
        throw std::runtime_error(std::string("offload backend ") + backend_.name() +
                                 ": the device refused the restored flow templates");
    }
    if (r.files > 0) {
        spdlog::info("flows: restored {} template(s) and {} sampling rate(s) from {} file(s) in {}",
                     r.templates, r.exporter_options, r.files, cfg.flows.template_dir);
    }
}

const dataplane::IngestBatchBuilder *FlowHandler::handle(
    const drivers::BatchResult &result, Counters &counters,
    std::chrono::steady_clock::time_point deadline) {
    event_ctx_.created = event::format_timestamp(wall_clock_ns());
    wire::IngestBatchHeader header;
    std::memcpy(&header, result.ingest, sizeof header);
    const uint32_t records = header.record_count;
    record_offsets_.clear();
    held_first_.assign(records, 0);
    newest_arrival_ns_ = 0;
    bool resubmission = false;
    for_each_ingest_record(result.ingest, records,
                           [&](uint32_t i, const wire::IngestRecordHeader &rec, uint32_t beat) {
                               record_offsets_.push_back(beat);
                               // Held sets age by the clock of the data that arrives, not of sets
                               // sent round again (nor of templates another gateway shared).
                               if (rec.flags & wire::kRecordResubmitted) {
                                   resubmission = true;
                                   held_first_[i] = take_first_record(rec);
                               } else if (!(rec.flags & wire::kRecordShared)) {
                                   newest_arrival_ns_ = std::max(
                                       newest_arrival_ns_, static_cast<int64_t>(rec.arrival_ns));
                               }
                           });
    const bool new_templates = handle_items(result, records, counters, deadline) > 0;
    if (aggregator_) last_fold_ = std::chrono::steady_clock::now();
    counters.flow.engine = backend_.counters().flow;
    // New templates: the held sets they decode go through again (after a resubmission too, for
    // the ready sets one batch could not hold). Only those: a template for one exporter must not
    // send every other exporter's held sets round again. The mirror is as the engine was after
    // this batch: batches in flight behind it are handled next, in order, and the resubmitted
    // batch runs after them, so a set whose template they withdraw comes back held, and one whose
    // template they bring is sent when they are handled.
    if (new_templates) resubmit_budget_ = pending_.size();
    resubmit_->reset();
    if ((new_templates || resubmission) && resubmit_budget_ > 0 && !pending_.empty()) {
        const auto ready = [this](const flow::PendingSets::Key &k) {
            return mirror_.knows(k.exporter.data(), k.domain, k.template_id);
        };
        moved_first_.clear();
        const uint32_t moved = pending_.move_ready(*resubmit_, ready, moved_first_);
        for_each_ingest_record(
            resubmit_->data(), static_cast<uint32_t>(moved_first_.size()),
            [&](uint32_t i, const wire::IngestRecordHeader &rec, uint32_t) {
                in_flight_.push_back({rec.port_id, rec.queue_id, rec.packet_seq, moved_first_[i]});
            });
        // Each set held when templates came goes round at most once for them: if the mirror and
        // the engine disagreed (a device fault), a set would come back held, ready again, for ever.
        resubmit_budget_ -= std::min<uint64_t>(moved, resubmit_budget_);
    }
    // Sets whose template just came are out of pending_ by now: they are not expired here (the
    // resubmitted batch judges whether their template came in time).
    if (newest_arrival_ns_ > 0) counters.flow.sets_expired += pending_.expire(newest_arrival_ns_);
    if (!template_path_.empty() &&
        std::chrono::steady_clock::now() - last_save_ >= save_interval_) {
        save_templates(counters);
    }
    return resubmit_->empty() ? nullptr : resubmit_.get();
}

void FlowHandler::idle(Counters &counters, std::chrono::steady_clock::time_point deadline) {
    if (!aggregator_ || aggregator_->open_keys() == 0) return;
    const int64_t quiet_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now() - last_fold_)
                                 .count();
    AggregateProducer sink(producer_, topic_, counters, deadline);
    aggregator_->advance(aggregator_->watermark_ns() + quiet_ns,
                         event::format_timestamp(wall_clock_ns()), counters.flow.aggregate, sink);
}

void FlowHandler::finish(Counters &counters, std::chrono::steady_clock::time_point deadline) {
    if (aggregator_) {
        AggregateProducer sink(producer_, topic_, counters, deadline);
        aggregator_->flush_all(event::format_timestamp(wall_clock_ns()), counters.flow.aggregate,
                               sink);
    }
    counters.flow.sets_unresolved += pending_.clear();
    if (sharing_) {
        sharing_->take(engine_index_, shared_waiting_);
        counters.flow.sharing.unapplied += shared_waiting_.size();
        shared_waiting_.clear();
    }
    counters.flow.templates_restored += restored_templates_;
    restored_templates_ = 0;
    if (!template_path_.empty()) save_templates(counters);
    counters.flow.engine = backend_.counters().flow;
}

void FlowHandler::save_templates(Counters &counters) {
    last_save_ = std::chrono::steady_clock::now();
    std::string why;
    if (flow::save_templates(template_path_, mirror_.state(), why)) {
        counters.flow.template_saves++;
    } else {
        counters.flow.template_save_errors++;
        spdlog::error("flows: templates not saved: {}", why);
    }
}

uint32_t FlowHandler::handle_items(const drivers::BatchResult &result, uint32_t records,
                                   Counters &counters,
                                   std::chrono::steady_clock::time_point deadline) {
    const uint32_t n = result.status == drivers::BatchStatus::kDone ? result.outputs : 0;
    const uint8_t *const batch = result.ingest;
    done_.assign(records, 0);
    came_back_.assign(records, 0);
    too_late_.assign(records, 0);
    shared_change_.assign(records, 0);
    numbered_.assign(records, 0);
    uint32_t current = records;  // the datagram whose records are being numbered
    uint32_t record_in_datagram = 0;
    uint32_t definitions = 0;  // templates learned or replaced
    for (uint32_t k = 0; k < n; ++k) {
        wire::FlowDescriptor d;
        std::memcpy(&d, result.output + size_t(k) * wire::kDescriptorBytes, sizeof d);
        if (!item_valid(d, records, batch, record_offsets_)) {
            counters.flow.invalid_items++;
            continue;
        }
        const uint8_t *at = batch + record_offsets_[d.record_index] * wire::kBeatBytes;
        wire::IngestRecordHeader rec;
        std::memcpy(&rec, at, sizeof rec);
        const uint8_t *payload = at + wire::kBeatBytes;
        const bool resubmitted = rec.flags & wire::kRecordResubmitted;
        switch (static_cast<wire::FlowItem>(d.item)) {
            case wire::FlowItem::kRecord:
                mirror_.note_use(d.template_slot, d.template_generation,
                                 static_cast<int64_t>(rec.arrival_ns));
                if (resubmitted && arrived_too_late(rec, d)) {
                    too_late_[d.record_index] = 1;
                    break;
                }
                if (d.record_index != current) {
                    current = d.record_index;
                    record_in_datagram = first_number(current, batch);
                }
                counters.flow.records++;
                numbered_[current]++;
                {
                    const uint32_t number = record_in_datagram++;
                    const sift::SiftDecision &decision = sifter_.decide_flow(d, rec.src_addr);
                    if (decision.drop) {
                        counters.flow.filtered++;
                    } else {
                        produce_record(rec, payload, d, number, decision, counters, deadline);
                    }
                }
                break;
            case wire::FlowItem::kPendingSet: {
                const uint32_t first = d.record_index == current
                                           ? record_in_datagram
                                           : first_number(d.record_index, batch);
                if (resubmitted) {  // still no template: held again (or lost if no room now)
                    came_back_[d.record_index] = 1;
                    if (!pending_.hold(rec, payload, d.record, first)) counters.flow.sets_expired++;
                } else {
                    counters.flow.sets_without_template++;
                    if (pending_.hold(rec, payload, d.record, first)) {
                        counters.flow.sets_held++;
                    } else {
                        counters.flow.sets_overflow++;
                    }
                }
                break;
            }
            case wire::FlowItem::kPacketDone:
                done_[d.record_index] = 1;
                counters.flow.items_lost += d.items_lost;
                if (rec.flags & wire::kRecordShared) {
                    count_shared_outcome(shared_change_[d.record_index], counters);
                } else if (resubmitted) {
                    // Too late for its template, or lost to a full batch: it ends here.
                    if (too_late_[d.record_index] ||
                        (d.items_lost > 0 && !came_back_[d.record_index])) {
                        counters.flow.sets_expired++;
                    } else if (!came_back_[d.record_index]) {
                        counters.flow.sets_resolved++;
                    }
                } else if (d.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed)) {
                    counters.count(malformed_reason(d.malformed_reason));
                } else {
                    counters.flow_packets++;
                }
                break;
            case wire::FlowItem::kTemplateLearned:
            case wire::FlowItem::kTemplateReplaced:
                definitions++;
                if (sharing_ && !(rec.flags & wire::kRecordShared))
                    publish_learned(result.output + size_t(k) * wire::kDescriptorBytes, payload,
                                    counters);
                [[fallthrough]];
            case wire::FlowItem::kTemplateRefreshed:
            case wire::FlowItem::kTemplateWithdrawn:
            case wire::FlowItem::kTemplateEvicted:
            case wire::FlowItem::kTemplateExpired:
            case wire::FlowItem::kExporterOptions:
            case wire::FlowItem::kExporterOptionsEvicted:
                if (rec.flags & wire::kRecordShared) shared_change_[d.record_index] = d.item;
                apply_change(rec, payload, result.output + size_t(k) * wire::kDescriptorBytes,
                             counters);
                if (d.item == static_cast<uint8_t>(wire::FlowItem::kTemplateRefreshed) &&
                    sharing_ && !(rec.flags & wire::kRecordShared))
                    publish_refresh(result.output + size_t(k) * wire::kDescriptorBytes, counters);
                break;
        }
    }
    // A datagram the device did not close (it failed, timed out, or returned too little) is
    // lost: counted.
    const Dropped lost = lost_reason(result.status);
    for (uint32_t i = 0; i < records; ++i) {
        if (done_[i]) continue;
        wire::IngestRecordHeader rec;
        std::memcpy(&rec, batch + record_offsets_[i] * wire::kBeatBytes, sizeof rec);
        if (rec.flags & wire::kRecordResubmitted) {
            counters.flow.sets_unresolved++;
        } else if (rec.flags & wire::kRecordShared) {
            counters.flow.sharing.unapplied++;
        } else {
            counters.count(lost);
        }
    }
    return definitions;
}

// In stream order: the records that follow a change are named with the state after it.
void FlowHandler::apply_change(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                               const uint8_t *item, Counters &counters) {
    wire::FlowStoreChange c;
    std::memcpy(&c, item, sizeof c);
    switch (mirror_.apply(c, datagram, payload)) {
        case flow::TemplateMirror::Applied::kApplied:
            break;
        case flow::TemplateMirror::Applied::kInvalid:
            counters.flow.invalid_items++;
            break;
        case flow::TemplateMirror::Applied::kOutOfStep:
            counters.flow.state_changes_out_of_step++;
            break;
    }
}

const dataplane::IngestBatchBuilder *FlowHandler::shared_templates(Counters &counters) {
    if (!sharing_) return nullptr;
    sharing_->take(engine_index_, shared_waiting_);
    shared_batch_->reset();
    size_t used = 0;
    for (; used < shared_waiting_.size(); ++used) {
        const flow::SharedTemplate &t = shared_waiting_[used];
        if (!should_install(t, counters)) continue;
        uint8_t datagram[flow::kMaxSharedRecordBytes + 24];
        const uint32_t len = flow::shared_template_datagram(t, datagram);
        const uint8_t no_address[16] = {};
        dataplane::RecordMeta meta{};
        meta.src_addr = t.exporter;
        meta.dst_addr = no_address;
        meta.kind = t.kind;
        meta.flags = static_cast<uint8_t>(
            wire::kRecordShared | (event::is_ipv4_mapped(t.exporter) ? 0 : wire::kRecordIpv6));
        // The template is as fresh as when the gateway that shared it saw it.
        meta.arrival_ns = static_cast<uint64_t>(t.learned_ns);
        if (!shared_batch_->add(meta, datagram, len)) break;  // full: the rest go next time
    }
    shared_waiting_.erase(shared_waiting_.begin(),
                          shared_waiting_.begin() + static_cast<std::ptrdiff_t>(used));
    return shared_batch_->empty() ? nullptr : shared_batch_.get();
}

bool FlowHandler::should_install(const flow::SharedTemplate &t, Counters &counters) const {
    const int slot =
        hls_kernels::template_find(mirror_.state(), t.exporter, t.domain, t.template_id);
    if (slot < 0) return true;
    const wire::FlowTemplate &have = mirror_.state().templates[slot];
    wire::FlowTemplate theirs;
    hls_kernels::read_template_record(t.record.data(), 0, t.record_len, t.kind, t.options, theirs);
    if (flow::same_definition(have, theirs)) {
        // Seen later by another gateway: offloaded as a refresh, its expiry starts again.
        if (t.learned_ns > have.refreshed_ns) return true;
        counters.flow.sharing.known++;
        return false;
    }
    if (have.refreshed_ns >= t.learned_ns) {
        counters.flow.sharing.older++;
        return false;
    }
    return true;
}

void FlowHandler::count_shared_outcome(uint8_t change, Counters &counters) {
    switch (static_cast<wire::FlowItem>(change)) {
        case wire::FlowItem::kTemplateLearned:
        case wire::FlowItem::kTemplateReplaced:
            counters.flow.sharing.installed++;
            break;
        case wire::FlowItem::kTemplateRefreshed:
            counters.flow.sharing.refreshed++;
            break;
        default:  // the engine did not learn it (refused, or no room for the change item)
            counters.flow.sharing.refused++;
            break;
    }
}

void FlowHandler::publish_learned(const uint8_t *item, const uint8_t *payload, Counters &counters) {
    wire::FlowStoreChange c;
    std::memcpy(&c, item, sizeof c);
    if (c.record.len > flow::kMaxSharedRecordBytes) return;  // the kernel takes none this long
    flow::SharedTemplate t;
    t.kind = static_cast<wire::RecordKind>(c.kind);
    t.options = c.flags & wire::kFlowOptions;
    t.template_id = c.template_id;
    t.record_len = c.record.len;
    std::memcpy(t.record.data(), payload + c.record.off, c.record.len);
    publish(c, t, counters);
}

void FlowHandler::publish_refresh(const uint8_t *item, Counters &counters) {
    wire::FlowStoreChange c;
    std::memcpy(&c, item, sizeof c);
    if (!sharing_->refresh_due(c.exporter, c.domain, c.template_id, c.refreshed_ns)) return;
    // A refresh points at no record: the host's copy has the definition (out of step: counted).
    const wire::FlowTemplate *def = mirror_.find(c.slot, c.generation);
    if (def == nullptr) return;
    flow::SharedTemplate t;
    flow::write_template_record(*def, t);
    if (publish(c, t, counters)) counters.flow.sharing.republished++;
}

bool FlowHandler::publish(const wire::FlowStoreChange &c, flow::SharedTemplate &t,
                          Counters &counters) {
    t.domain = c.domain;
    t.learned_ns = c.refreshed_ns;
    std::memcpy(t.exporter, c.exporter, 16);
    if (!sharing_->publish(t)) {
        counters.flow.sharing.publish_refused++;
        return false;
    }
    counters.flow.sharing.published++;
    return true;
}

uint32_t FlowHandler::take_first_record(const wire::IngestRecordHeader &rec) {
    // Entries before the match belong to sets whose batch was never offloaded again.
    while (!in_flight_.empty()) {
        const InFlight f = in_flight_.front();
        in_flight_.pop_front();
        if (f.port_id == rec.port_id && f.queue_id == rec.queue_id &&
            f.packet_seq == rec.packet_seq)
            return f.first_record;
    }
    return 0;
}

uint32_t FlowHandler::first_number(uint32_t record, const uint8_t *batch) const {
    const auto header = [&](uint32_t r) {
        wire::IngestRecordHeader h;
        std::memcpy(&h, batch + record_offsets_[r] * wire::kBeatBytes, sizeof h);
        return h;
    };
    const wire::IngestRecordHeader rec = header(record);
    if (!(rec.flags & wire::kRecordResubmitted)) return 0;
    uint32_t n = held_first_[record];
    // The sets held with it go round in their datagram's order, one after another.
    for (uint32_t q = record; q-- > 0;) {
        const wire::IngestRecordHeader before = header(q);
        if (!(before.flags & wire::kRecordResubmitted) || before.port_id != rec.port_id ||
            before.queue_id != rec.queue_id || before.packet_seq != rec.packet_seq)
            break;
        n += numbered_[q];
    }
    return n;
}

// A held set is decoded only if its template arrived within the pending timeout of the set
// itself, wherever batches happen to split.
bool FlowHandler::arrived_too_late(const wire::IngestRecordHeader &datagram,
                                   const wire::FlowDescriptor &item) const {
    if (mirror_.find(item.template_slot, item.template_generation) == nullptr) return false;
    // When it was defined: a refresh since (one shared with it, say) does not make it late.
    return mirror_.defined_ns(item.template_slot, item.template_generation) -
               static_cast<int64_t>(datagram.arrival_ns) >
           pending_timeout_ns_;
}

void FlowHandler::produce_record(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                                 const wire::FlowDescriptor &item, uint32_t record_in_datagram,
                                 const sift::SiftDecision &decision, Counters &counters,
                                 std::chrono::steady_clock::time_point deadline) {
    const wire::TemplateField *fields = nullptr;
    uint32_t field_count = 0;
    if (item.kind == static_cast<uint8_t>(wire::RecordKind::kNetflowV5)) {
        fields = wire::kNetflowV5Template;
        field_count = wire::kNetflowV5Fields;
    } else if (item.template_slot != wire::kNoTemplateSlot) {
        // The mirror is at this item's point of the stream, so it holds the record's template
        // unless a change item went missing (then: core fields only, counted; never misnamed).
        if (const wire::FlowTemplate *t =
                mirror_.find(item.template_slot, item.template_generation)) {
            fields = t->fields;
            field_count = t->field_count;
        } else {
            counters.flow.named_by_core_fields++;
        }
    }
    if (item.flags & wire::kFlowOptions) counters.flow.options_records++;
    key_ =
        event::address_text(datagram.src_addr).view();  // per-exporter order: one key per exporter
    if (aggregator_ && folds(item, decision)) {
        fold_record(datagram, payload, item, fields, field_count, counters, deadline);
        return;
    }
    const bool decoded_late = datagram.flags & wire::kRecordResubmitted;
    const event::FlowRecordView view{datagram,     payload,
                                     item,         fields,
                                     field_count,  record_in_datagram,
                                     decoded_late, &decision.annotations};
    const event::AssembledFlowEvent ev =
        event::assemble_flow_event(view, key_, event_ctx_, event_json_);
    if (ev.invalid_utf8) counters.invalid_utf8_events++;
    if (ev.sampling_overridden) counters.flow.sampling_overridden++;
    counters.flow.field_length_mismatches += ev.length_mismatches;
    const std::string &topic = decision.topic ? *decision.topic : topic_;
    if (decision.topic) counters.routed++;
    if (!decision.annotations.threats.empty()) counters.threat_matches++;
    count_produced(producer_.produce(deadline, topic, key_.data(), key_.size(), event_json_.data(),
                                     event_json_.size()),
                   counters.flow, counters);
}

void FlowHandler::fold_record(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                              const wire::FlowDescriptor &item, const wire::TemplateField *fields,
                              uint32_t field_count, Counters &counters,
                              std::chrono::steady_clock::time_point deadline) {
    const event::SamplingRate rate = event::sampling_rate(item, key_, event_ctx_);
    if (rate.overridden) counters.flow.sampling_overridden++;
    AggregateProducer sink(producer_, topic_, counters, deadline);
    aggregator_->fold({item, payload + item.record.off, fields, field_count, datagram.src_addr,
                       static_cast<int64_t>(datagram.arrival_ns), rate.scale},
                      event_ctx_.created, counters.flow.aggregate, sink);
    counters.flow.aggregated++;
}

namespace {

// An sFlow flow sample as the aggregator sees a flow record: its sampled packet's core fields,
// the frame's length and 1 packet, at the datagram's arrival time (a sample has no flow times).
// Interfaces and AS numbers are not among them: those key fields are 0 for samples.
wire::FlowDescriptor sample_as_record(const wire::IngestRecordHeader &datagram,
                                      const wire::SflowSample &s) {
    wire::FlowDescriptor d{};
    d.record_index = s.record_index;
    d.item = static_cast<uint8_t>(wire::FlowItem::kRecord);
    d.kind = static_cast<uint8_t>(wire::RecordKind::kSflowV5);
    d.protocol = s.protocol;
    d.template_slot = wire::kNoTemplateSlot;
    d.observation_domain = s.sub_agent_id;
    d.src_port = s.src_port;
    d.dst_port = s.dst_port;
    d.ip_tos = s.tos;
    d.direction = 0xff;
    d.sampling_interval = s.sampling_rate;
    d.bytes = s.frame_length;
    d.packets = 1;
    d.end_ns = static_cast<int64_t>(datagram.arrival_ns);
    d.flags = wire::kFlowHasEnd | ((s.flags & wire::kSflowHasIp) ? wire::kFlowHasAddresses : 0);
    std::memcpy(d.src_addr, s.src_addr, 16);
    std::memcpy(d.dst_addr, s.dst_addr, 16);
    return d;
}

}  // namespace

bool FlowHandler::fold_sflow_sample(const wire::IngestRecordHeader &datagram,
                                    const wire::SflowSample &sample,
                                    const sift::SiftDecision &decision, Counters &counters,
                                    std::chrono::steady_clock::time_point deadline) {
    // Counter samples stay events of their own, as options data does.
    if (!aggregator_ || sample.item != static_cast<uint8_t>(wire::SflowItem::kFlowSample))
        return false;
    const wire::FlowDescriptor item = sample_as_record(datagram, sample);
    if (!folds(item, decision)) return false;
    const event::SamplingRate rate = event::sampling_rate(
        sample.sampling_rate, false, event::address_text(sample.agent).view(), event_ctx_);
    if (rate.overridden) counters.sflow.sampling_overridden++;
    AggregateProducer sink(producer_, topic_, counters, deadline);
    aggregator_->fold({item, nullptr, nullptr, 0, datagram.src_addr,
                       static_cast<int64_t>(datagram.arrival_ns), rate.scale},
                      event::format_timestamp(wall_clock_ns()), counters.flow.aggregate, sink);
    last_fold_ = std::chrono::steady_clock::now();  // windows end by flow time while it comes
    counters.sflow.aggregated++;
    return true;
}

}  // namespace tapsift::pipeline
