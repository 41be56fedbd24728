#include "pipeline/batch_handler.hpp"

#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "event/format.hpp"
#include "metrics/wall_clock.hpp"
#include "pipeline/ingest_records.hpp"
#include "pipeline/lost_reason.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::pipeline {
namespace {

// A descriptor is used only if it is one a kernel can write: a card or xclbin gone wrong must
// not make the host read outside the record.
bool descriptor_valid(const wire::Descriptor &d, uint32_t index,
                      const wire::IngestRecordHeader &rec) {
    if (d.record_index != index || d.verdict > static_cast<uint8_t>(wire::Verdict::kUndecided))
        return false;
    if (d.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed)) {
        return d.malformed_reason == static_cast<uint8_t>(wire::SyslogMalformed::kEmpty) ||
               d.malformed_reason == static_cast<uint8_t>(wire::SyslogMalformed::kBadPri);
    }
    for (const wire::Span s :
         {d.hostname, d.appname, d.procid, d.msgid, d.structured_data, d.message}) {
        if (uint32_t{s.off} + s.len > rec.payload_len) return false;
    }
    return true;
}

Malformed malformed_reason(uint8_t syslog_reason) {
    return static_cast<wire::SyslogMalformed>(syslog_reason) == wire::SyslogMalformed::kEmpty
               ? Malformed::kSyslogEmpty
               : Malformed::kSyslogBadPri;
}

// Where a folded event's JSON takes its dedup fields: event.start/end (ECS) and tapsift.dedup.count
// (ECS has no field for a count of folded events).
struct FoldPoints {
    size_t event_fields_at;
    size_t tapsift_fields_at;
};

// A held event: what producing it later needs. Its JSON is spliced at its fold points when emitted.
void pack_held(std::string &out, std::string_view topic, std::string_view key, FoldPoints at,
               std::string_view json) {
    const auto put = [&out](std::string_view s) {
        const uint32_t n = static_cast<uint32_t>(s.size());
        out.append(reinterpret_cast<const char *>(&n), sizeof n);
        out.append(s.data(), s.size());
    };
    out.clear();
    put(topic);
    put(key);
    put(std::string_view(reinterpret_cast<const char *>(&at), sizeof at));
    put(json);
}

std::string_view unpack_next(std::string_view &held) {
    uint32_t n = 0;
    std::memcpy(&n, held.data(), sizeof n);
    const std::string_view s = held.substr(sizeof n, n);
    held.remove_prefix(sizeof n + n);
    return s;
}

// Each datagram's source address, counted before the batch goes to the backend (whatever then
// becomes of it).
void count_sources(const dataplane::IngestBatchBuilder &batch, TopSources &sources) {
    for_each_ingest_record(batch.data(), batch.records(),
                           [&](uint32_t, const wire::IngestRecordHeader &rec, uint32_t) {
                               sources.count(rec.src_addr);
                           });
}

// Each lcore keeps more sources than the endpoint shows, so that the top-N is exact while the
// sources are not many more than N (top_sources.hpp).
constexpr size_t kSourcesKeptPerShown = 4;

}  // namespace

BatchHandler::BatchHandler(std::unique_ptr<drivers::OffloadBackend> backend,
                           kafka::Producer &producer, const config::Config &cfg,
                           std::string observer_hostname, uint32_t engine_index,
                           const sift::RulesetSource &rules, flow::TemplateSharing *sharing)
    : backend_(std::move(backend)),
      producer_(producer),
      queue_full_timeout_(cfg.kafka.queue_full_timeout_ms),
      syslog_topic_(cfg.kafka.syslog_topic),
      event_ctx_{std::move(observer_hostname), ""},
      sifter_(rules),
      flows_(*backend_, producer, cfg, engine_index, sifter_, sharing),
      sflows_(producer, cfg, sifter_, flows_),
      syslog_senders_(kSourcesKeptPerShown * cfg.metrics.top_sources),
      flow_exporters_(kSourcesKeptPerShown * cfg.metrics.top_sources),
      batch_timer_(cfg.offload.ring_slots) {
    load_tables();
    if (cfg.sift.dedup.window_ms > 0) {
        dedup_.emplace(int64_t{cfg.sift.dedup.window_ms} * 1000000, cfg.sift.dedup.max_entries,
                       cfg.sift.dedup.max_bytes);
    }
}

void BatchHandler::load_tables() {
    const sift::Ruleset &rules = sifter_.ruleset();
    if (!backend_->load_tables(rules.image(), rules.image_bytes()))
        throw std::runtime_error(std::string("offload backend ") + backend_->name() +
                                 ": the device refused the prefilter tables");
}

void BatchHandler::take_reload(Counters &counters, std::chrono::steady_clock::time_point deadline) {
    if (!sifter_.reload_pending()) return;
    drain(counters, deadline);  // what is in flight was sifted by the rules in force
    sifter_.refresh();
    load_tables();
}

void BatchHandler::finish(Counters &counters) {
    const auto deadline = std::chrono::steady_clock::now() + queue_full_timeout_;
    drain(counters, deadline);
    const drivers::BackendCounters &b = backend_->counters();
    counters.offload = {b.batches, b.ring_full, b.timeouts, b.device_errors, b.bad_tables};
    if (dedup_) {
        dedup_->drain(
            [&](sift::DedupClosed &&c) { emit_folded(std::move(c), counters, deadline); });
        counters.dedup_evicted += dedup_->stats().evicted;
    }
    flows_.finish(counters, deadline);
}

int64_t BatchHandler::dedup_now_ns() const {
    return newest_arrival_ns_ + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - newest_arrival_seen_)
                                    .count();
}

void BatchHandler::idle(Counters &counters) {
    const auto deadline = std::chrono::steady_clock::now() + queue_full_timeout_;
    submit_shared_templates(counters, deadline);
    drain(counters, deadline);
    flows_.idle(counters, deadline);
    if (!dedup_ || dedup_->entries() == 0) return;
    dedup_->expire(dedup_now_ns(),
                   [&](sift::DedupClosed &&c) { emit_folded(std::move(c), counters, deadline); });
}

void BatchHandler::emit_folded(sift::DedupClosed &&closed, Counters &counters,
                               std::chrono::steady_clock::time_point deadline) {
    std::string_view held = closed.held;
    const std::string_view topic = unpack_next(held);
    const std::string_view key = unpack_next(held);
    FoldPoints at{};
    std::memcpy(&at, unpack_next(held).data(), sizeof at);
    const std::string_view json = unpack_next(held);
    folded_json_.assign(json.substr(0, at.event_fields_at));
    folded_json_ += fmt::format("\"start\":\"{}\",\"end\":\"{}\",",
                                event::timestamp_text(closed.first_ns).view(),
                                event::timestamp_text(closed.last_ns).view());
    folded_json_.append(json.substr(at.event_fields_at, at.tapsift_fields_at - at.event_fields_at));
    folded_json_ += fmt::format("\"dedup\":{{\"count\":{}}},", closed.count);
    folded_json_.append(json.substr(at.tapsift_fields_at));
    produce(std::string(topic), key, folded_json_, counters, deadline);
}

void BatchHandler::handle(const dataplane::IngestBatchBuilder &batch, Counters &counters) {
    // One wait for room in the producer queue per batch, not per event: a stalled broker must not
    // hold RX for records x timeout.
    const auto deadline = std::chrono::steady_clock::now() + queue_full_timeout_;
    take_reload(counters, deadline);
    submit_shared_templates(counters, deadline);
    // sFlow agents are flow exporters too.
    count_sources(batch,
                  batch.engine() == dataplane::Engine::kSyslog ? syslog_senders_ : flow_exporters_);
    // Flow batches overlap like syslog batches: the engine keeps its templates in its own
    // memory, and the host's copy follows the change items in submission order (collect's).
    drivers::BatchKind kind = drivers::BatchKind::kSyslog;
    if (batch.engine() == dataplane::Engine::kFlow) kind = drivers::BatchKind::kFlow;
    if (batch.engine() == dataplane::Engine::kSflow) kind = drivers::BatchKind::kSflow;
    submit(kind, batch.data(), batch.size_bytes(), counters, deadline);
    while (collect(false, counters, deadline)) {
    }
}

void BatchHandler::submit(drivers::BatchKind kind, const uint8_t *ingest, uint32_t bytes,
                          Counters &counters, std::chrono::steady_clock::time_point deadline) {
    // The cpu backend runs the batch inside submit: its time starts before the call that takes it.
    auto started = std::chrono::steady_clock::now();
    while (!backend_->submit(kind, ingest, bytes)) {
        collect(true, counters, deadline);
        started = std::chrono::steady_clock::now();
    }
    batch_timer_.submitted(started);
}

// Before the batch that may need them: templates other gateways shared.
void BatchHandler::submit_shared_templates(Counters &counters,
                                           std::chrono::steady_clock::time_point deadline) {
    if (const dataplane::IngestBatchBuilder *shared = flows_.shared_templates(counters))
        submit(drivers::BatchKind::kFlow, shared->data(), shared->size_bytes(), counters, deadline);
}

bool BatchHandler::collect(bool wait, Counters &counters,
                           std::chrono::steady_clock::time_point deadline) {
    drivers::BatchResult result;
    if (!backend_->collect(wait, result)) return false;
    batch_timer_.collected(
        std::chrono::steady_clock::now(),
        result.kind == drivers::BatchKind::kSyslog ? syslog_batch_time_ : flow_batch_time_);
    if (result.kind == drivers::BatchKind::kFlow) {
        // Collecting freed a slot, so held sets sent round again never wait for room.
        const dataplane::IngestBatchBuilder *again = flows_.handle(result, counters, deadline);
        if (again != nullptr)
            submit(drivers::BatchKind::kFlow, again->data(), again->size_bytes(), counters,
                   deadline);
    } else if (result.kind == drivers::BatchKind::kSflow) {
        sflows_.handle(result, backend_->counters(), counters, deadline);
    } else {
        handle_syslog(result, counters, deadline);
    }
    return true;
}

void BatchHandler::fill_breakdown(LcoreBreakdown &out) const {
    out.rules = sifter_.rule_counters();
    out.syslog_senders = syslog_senders_;
    out.flow_exporters = flow_exporters_;
    out.syslog_batch_time = syslog_batch_time_;
    out.flow_batch_time = flow_batch_time_;
}

void BatchHandler::drain(Counters &counters, std::chrono::steady_clock::time_point deadline) {
    while (collect(true, counters, deadline)) {
    }
}

void BatchHandler::handle_syslog(const drivers::BatchResult &result, Counters &counters,
                                 std::chrono::steady_clock::time_point deadline) {
    wire::IngestBatchHeader header;
    std::memcpy(&header, result.ingest, sizeof header);
    const uint32_t records = header.record_count;
    if (result.status != drivers::BatchStatus::kDone || result.outputs != records) {
        // The device failed, timed out or returned a short batch: every record in it is lost,
        // and counted.
        const Dropped why = lost_reason(result.status);
        for (uint32_t i = 0; i < records; ++i) counters.count(why);
        return;
    }
    event_ctx_.created = event::format_timestamp(wall_clock_ns());
    const auto collected = std::chrono::steady_clock::now();  // read once per batch, not per record
    for_each_ingest_record(
        result.ingest, records,
        [&](uint32_t i, const wire::IngestRecordHeader &rec, uint32_t beat) {
            wire::Descriptor d;
            std::memcpy(&d, result.output + i * wire::kDescriptorBytes, sizeof d);
            if (descriptor_valid(d, i, rec)) {
                handle_record(rec, result.ingest + size_t{beat + 1} * wire::kBeatBytes, d, counters,
                              deadline);
            } else {
                counters.count(Dropped::kBackendError);
            }
            if (static_cast<int64_t>(rec.arrival_ns) > newest_arrival_ns_) {
                newest_arrival_ns_ = static_cast<int64_t>(rec.arrival_ns);
                newest_arrival_seen_ = collected;
            }
        });
    if (dedup_) {
        dedup_->expire(newest_arrival_ns_, [&](sift::DedupClosed &&c) {
            emit_folded(std::move(c), counters, deadline);
        });
    }
}

void BatchHandler::handle_record(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                                 const wire::Descriptor &d, Counters &counters,
                                 std::chrono::steady_clock::time_point deadline) {
    if (d.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed)) {
        counters.count(malformed_reason(d.malformed_reason));
        return;
    }
    const std::string_view message(reinterpret_cast<const char *>(payload) + d.message.off,
                                   d.message.len);
    const event::SecEvent *sec = nullptr;
    if (d.verdict != static_cast<uint8_t>(wire::Verdict::kFiltered)) {
        std::string why;
        if (event::parse_cef_leef(event::cef_leef_text(payload, d), sec_, &why)) {
            sec = &sec_;
            (sec_.format == event::SecFormat::kCef ? counters.cef_events : counters.leef_events)++;
        } else if (!why.empty()) {
            counters.sec_malformed++;
        }
    }
    const sift::SiftDecision &decision = sifter_.decide_syslog(rec, payload, d, sec);
    if (decision.drop) {
        counters.filtered++;
        return;
    }
    if (d.notes & wire::kNoteNoPri) counters.syslog_no_pri++;
    if (d.notes & wire::kNoteNoTimestamp) counters.syslog_no_timestamp++;
    if (d.notes & wire::kNoteBadStructuredData) counters.syslog_bad_structured_data++;
    if (dedup_) {
        const auto span = [&](wire::Span s) {
            return std::string_view(reinterpret_cast<const char *>(payload) + s.off, s.len);
        };
        // Identical: same kind, sender, collector, PRI, header fields and message, and the same
        // rule decision (deciding rule, tags), so a fold never loses an event's own routing.
        dedup_key_.assign("syslog");
        dedup_key_.append(reinterpret_cast<const char *>(rec.src_addr), sizeof rec.src_addr);
        dedup_key_.append(reinterpret_cast<const char *>(rec.dst_addr), sizeof rec.dst_addr);
        dedup_key_.append(reinterpret_cast<const char *>(&d.priority), sizeof d.priority);
        dedup_key_.append(reinterpret_cast<const char *>(&decision.rule), sizeof decision.rule);
        for (const std::string_view part :
             {span(d.hostname), span(d.appname), span(d.msgid), message}) {
            dedup_key_ += '\0';
            dedup_key_.append(part.data(), part.size());
        }
        for (const std::string_view tag : decision.annotations.tags) {
            dedup_key_ += '\1';
            dedup_key_.append(tag.data(), tag.size());
        }
        if (dedup_->fold(dedup_key_, static_cast<int64_t>(rec.arrival_ns))) {
            counters.deduplicated++;
            return;
        }
    }
    if (!decision.annotations.threats.empty()) counters.threat_matches++;
    if (decision.topic) counters.routed++;
    key_ = event::address_text(rec.src_addr).view();  // per-source order: one key per source
    event::EventAnnotations annotations = decision.annotations;
    annotations.sec = sec;
    const event::AssembledEvent ev =
        event::assemble_syslog_event(rec, key_, payload, d, event_ctx_, &annotations, event_json_);
    if (ev.invalid_utf8) counters.invalid_utf8_events++;
    const std::string &topic = decision.topic ? *decision.topic : syslog_topic_;
    if (dedup_) {
        pack_held(held_, topic, key_, {ev.event_fields_at, ev.tapsift_fields_at}, event_json_);
        dedup_->open(dedup_key_, static_cast<int64_t>(rec.arrival_ns), held_,
                     [&](sift::DedupClosed &&c) { emit_folded(std::move(c), counters, deadline); });
        return;
    }
    produce(topic, key_, event_json_, counters, deadline);
}

void BatchHandler::produce(const std::string &topic, std::string_view key, std::string_view json,
                           Counters &counters, std::chrono::steady_clock::time_point deadline) {
    switch (producer_.produce(deadline, topic, key.data(), key.size(), json.data(), json.size())) {
        case kafka::ProduceResult::kAccepted:
            counters.produced++;
            break;
        case kafka::ProduceResult::kSpooled:
            counters.produced++;
            counters.produced_to_spool++;
            break;
        case kafka::ProduceResult::kQueueFull:
            counters.count(Dropped::kProducerQueueFull);
            break;
        case kafka::ProduceResult::kError:
            counters.count(Dropped::kProduceError);
            break;
    }
}

}  // namespace tapsift::pipeline
