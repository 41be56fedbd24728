#include "pipeline/batch_handler.hpp"

#include <chrono>
#include <cstring>

#include "wire/descriptor.hpp"
#include "metrics/wall_clock.hpp"

namespace tapsift::pipeline {
namespace {

// A descriptor is used only if it is one a kernel can write: a card or xclbin gone wrong must
// not make the host read outside the record.
bool descriptor_valid(const wire::Descriptor &d, uint32_t index,
                      const wire::IngestRecordHeader &rec) {
    if (d.record_index != index || d.verdict > static_cast<uint8_t>(wire::Verdict::kMalformed))
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

}  // namespace

BatchHandler::BatchHandler(std::unique_ptr<drivers::OffloadBackend> backend,
                           kafka::Producer &producer, const config::Config &cfg,
                           std::string observer_hostname, uint32_t engine_index)
    : backend_(std::move(backend)),
      producer_(producer),
      queue_full_timeout_(cfg.kafka.queue_full_timeout_ms),
      syslog_topic_(cfg.kafka.syslog_topic),
      event_ctx_{std::move(observer_hostname), ""},
      descriptors_(new uint8_t[wire::kMaxRecordsPerBatch * wire::kDescriptorBytes]),
      flows_(*backend_, producer, cfg, engine_index) {}

void BatchHandler::handle(const dataplane::IngestBatchBuilder &batch, Counters &counters) {
    // One wait for room in the producer queue per batch, not per event: a stalled broker must not
    // hold RX for records x timeout.
    const auto deadline = std::chrono::steady_clock::now() + queue_full_timeout_;
    if (batch.engine() == dataplane::Engine::kFlow) {
        flows_.handle(batch, counters, deadline);
    } else {
        handle_syslog(batch, counters, deadline);
    }
}

void BatchHandler::handle_syslog(const dataplane::IngestBatchBuilder &batch, Counters &counters,
                                 std::chrono::steady_clock::time_point deadline) {
    const int n = backend_->process(batch.data(), batch.size_bytes(), descriptors_.get());
    if (n != static_cast<int>(batch.records())) {
        // The device failed (or returned a short batch): every record in it is lost, and counted.
        for (uint32_t i = 0; i < batch.records(); ++i) counters.count(Dropped::kBackendError);
        return;
    }
    event_ctx_.created = event::format_timestamp(wall_clock_ns());
    const uint8_t *at = batch.data() + wire::kBeatBytes;
    for (uint32_t i = 0; i < batch.records(); ++i) {
        wire::IngestRecordHeader rec;
        std::memcpy(&rec, at, sizeof rec);
        wire::Descriptor d;
        std::memcpy(&d, descriptors_.get() + i * wire::kDescriptorBytes, sizeof d);
        if (descriptor_valid(d, i, rec)) {
            handle_record(rec, at + wire::kBeatBytes, d, counters, deadline);
        } else {
            counters.count(Dropped::kBackendError);
        }
        at += wire::kBeatBytes * (1 + wire::payload_beats(rec.payload_len));
    }
}

void BatchHandler::handle_record(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                                 const wire::Descriptor &d, Counters &counters,
                                 std::chrono::steady_clock::time_point deadline) {
    switch (static_cast<wire::Verdict>(d.verdict)) {
        case wire::Verdict::kMalformed:
            counters.count(malformed_reason(d.malformed_reason));
            return;
        case wire::Verdict::kFiltered:
            counters.filtered++;
            return;
        case wire::Verdict::kForward:
            break;
    }
    if (d.notes & wire::kNoteNoPri) counters.syslog_no_pri++;
    if (d.notes & wire::kNoteNoTimestamp) counters.syslog_no_timestamp++;
    if (d.notes & wire::kNoteBadStructuredData) counters.syslog_bad_structured_data++;
    key_ = event::address_text(rec.src_addr).view();  // per-source order: one key per source
    const event::AssembledEvent ev =
        event::assemble_syslog_event(rec, key_, payload, d, event_ctx_, event_json_);
    if (ev.invalid_utf8) counters.invalid_utf8_events++;
    switch (producer_.produce(deadline, syslog_topic_, key_.data(), key_.size(), event_json_.data(),
                              event_json_.size())) {
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
