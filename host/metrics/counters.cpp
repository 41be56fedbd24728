#include "metrics/counters.hpp"

#include <fmt/format.h>

#include <cstring>
#include <fstream>

namespace tapsift {

const char *name_of(Malformed m) {
    switch (m) {
        case Malformed::kTruncatedL2:
            return "truncated_l2";
        case Malformed::kTruncatedL3:
            return "truncated_l3";
        case Malformed::kBadIpHeader:
            return "bad_ip_header";
        case Malformed::kBadIpv4Checksum:
            return "bad_ipv4_checksum";
        case Malformed::kBadUdpLength:
            return "bad_udp_length";
        case Malformed::kOversizedFrame:
            return "oversized_frame";
        case Malformed::kSyslogEmpty:
            return "syslog_empty";
        case Malformed::kSyslogBadPri:
            return "syslog_bad_pri";
        case Malformed::kFlowBadVersion:
            return "flow_bad_version";
        case Malformed::kFlowTruncatedHeader:
            return "flow_truncated_header";
        case Malformed::kFlowBadLength:
            return "flow_bad_length";
        case Malformed::kFlowBadSetLength:
            return "flow_bad_set_length";
        case Malformed::kSflowTruncatedHeader:
            return "sflow_truncated_header";
        case Malformed::kSflowBadVersion:
            return "sflow_bad_version";
        case Malformed::kSflowBadAgentType:
            return "sflow_bad_agent_type";
        case Malformed::kSflowBadSampleLength:
            return "sflow_bad_sample_length";
        case Malformed::kSflowBadRecordLength:
            return "sflow_bad_record_length";
        case Malformed::kSflowBadSampleHeader:
            return "sflow_bad_sample_header";
        case Malformed::kSflowMissingSamples:
            return "sflow_missing_samples";
        case Malformed::kCount:
            break;
    }
    return "?";
}

const char *name_of(Dropped d) {
    switch (d) {
        case Dropped::kNotIp:
            return "not_ip";
        case Dropped::kNotUdp:
            return "not_udp";
        case Dropped::kNotTelemetry:
            return "not_telemetry";
        case Dropped::kIpv6Fragment:
            return "ipv6_fragment";
        case Dropped::kFragmentDiscarded:
            return "fragment_discarded";
        case Dropped::kFragmentIncomplete:
            return "fragment_incomplete";
        case Dropped::kBackendError:
            return "backend_error";
        case Dropped::kBackendTimeout:
            return "backend_timeout";
        case Dropped::kProducerQueueFull:
            return "producer_queue_full";
        case Dropped::kProduceError:
            return "produce_error";
        case Dropped::kCount:
            break;
    }
    return "?";
}

std::array<NamedCount, 8> tcp_segment_outcomes(const dataplane::RxTcpCounters &t) {
    using O = dataplane::TcpSegmentOutcome;
    const auto outcome = [&t](O o) { return t.table.segments[static_cast<size_t>(o)]; };
    return {{{"used", outcome(O::kUsed)},
             {"duplicate", outcome(O::kDuplicate)},
             {"out_of_window", outcome(O::kOutOfWindow)},
             {"over_budget", outcome(O::kOverBudget)},
             {"control", outcome(O::kControl)},
             {"table_full", t.table.segments_table_full},
             {"encrypted", t.encrypted},
             {"server_to_client", t.server_segments}}};
}

uint64_t Counters::malformed_total() const {
    uint64_t sum = 0;
    for (uint64_t v : malformed) sum += v;
    return sum;
}

uint64_t Counters::dropped_total() const {
    uint64_t sum = 0;
    for (uint64_t v : dropped) sum += v;
    return sum;
}

bool AggregateCounters::balanced() const {
    return records == records_produced + records_dropped + open_records &&
           events == produced + dropped;
}

AggregateCounters &AggregateCounters::operator+=(const AggregateCounters &o) {
    records += o.records;
    open_records += o.open_records;
    late_records += o.late_records;
    events += o.events;
    early_events += o.early_events;
    early_flushes += o.early_flushes;
    produced += o.produced;
    dropped += o.dropped;
    records_produced += o.records_produced;
    records_dropped += o.records_dropped;
    return *this;
}

namespace {

// Counters made of uint64_t only: summed as an array, so a counter added later is summed too.
template <typename AllU64>
void add_as_array(AllU64 &sum, const AllU64 &add) {
    static_assert(sizeof(AllU64) % sizeof(uint64_t) == 0, "counters are all uint64_t");
    uint64_t mine[sizeof(AllU64) / sizeof(uint64_t)];
    uint64_t theirs[sizeof(AllU64) / sizeof(uint64_t)];
    std::memcpy(mine, &sum, sizeof mine);
    std::memcpy(theirs, &add, sizeof theirs);
    for (size_t i = 0; i < sizeof mine / sizeof(uint64_t); ++i) mine[i] += theirs[i];
    std::memcpy(static_cast<void *>(&sum), mine, sizeof mine);
}

}  // namespace

TemplateSharingCounters &TemplateSharingCounters::operator+=(const TemplateSharingCounters &o) {
    add_as_array(*this, o);
    return *this;
}

bool FlowCounters::balanced() const {
    return sharing.balanced() &&
           records ==
               produced + filtered + dropped_queue_full + dropped_produce_error + aggregated &&
           aggregate.balanced() && sets_without_template == sets_held + sets_overflow &&
           sets_held >= sets_resolved + sets_expired + sets_unresolved;
}

FlowCounters &FlowCounters::operator+=(const FlowCounters &o) {
    records += o.records;
    produced += o.produced;
    filtered += o.filtered;
    dropped_queue_full += o.dropped_queue_full;
    dropped_produce_error += o.dropped_produce_error;
    aggregated += o.aggregated;
    items_lost += o.items_lost;
    invalid_items += o.invalid_items;
    options_records += o.options_records;
    named_by_core_fields += o.named_by_core_fields;
    state_changes_out_of_step += o.state_changes_out_of_step;
    sampling_overridden += o.sampling_overridden;
    field_length_mismatches += o.field_length_mismatches;
    sets_without_template += o.sets_without_template;
    sets_held += o.sets_held;
    sets_overflow += o.sets_overflow;
    sets_resolved += o.sets_resolved;
    sets_expired += o.sets_expired;
    sets_unresolved += o.sets_unresolved;
    templates_restored += o.templates_restored;
    template_saves += o.template_saves;
    template_save_errors += o.template_save_errors;
    aggregate += o.aggregate;
    sharing += o.sharing;
    add_as_array(engine, o.engine);
    return *this;
}

SflowCounters &SflowCounters::operator+=(const SflowCounters &o) {
    add_as_array(*this, o);
    return *this;
}

bool Counters::balanced() const {
    return rx_packets + tcp.messages == produced + filtered + deduplicated + flow_packets +
                                            sflow_packets + merged_fragments + malformed_total() +
                                            dropped_total() + tcp.segments() &&
           flow.balanced() && sflow.balanced() &&
           flow.aggregate.records == flow.aggregated + sflow.aggregated;
}

Counters &Counters::operator+=(const Counters &o) {
    rx_packets += o.rx_packets;
    rx_bytes += o.rx_bytes;
    produced += o.produced;
    filtered += o.filtered;
    deduplicated += o.deduplicated;
    merged_fragments += o.merged_fragments;
    flow_packets += o.flow_packets;
    sflow_packets += o.sflow_packets;
    for (size_t i = 0; i < malformed.size(); ++i) malformed[i] += o.malformed[i];
    for (size_t i = 0; i < dropped.size(); ++i) dropped[i] += o.dropped[i];
    reassembled_datagrams += o.reassembled_datagrams;
    produced_to_spool += o.produced_to_spool;
    routed += o.routed;
    threat_matches += o.threat_matches;
    cef_events += o.cef_events;
    leef_events += o.leef_events;
    sec_malformed += o.sec_malformed;
    dedup_evicted += o.dedup_evicted;
    syslog_truncated += o.syslog_truncated;
    syslog_no_pri += o.syslog_no_pri;
    syslog_no_timestamp += o.syslog_no_timestamp;
    syslog_bad_structured_data += o.syslog_bad_structured_data;
    invalid_utf8_events += o.invalid_utf8_events;
    batches += o.batches;
    idle_sleeps += o.idle_sleeps;
    flow += o.flow;
    sflow += o.sflow;
    offload += o.offload;
    add_as_array(tcp, o.tcp);
    return *this;
}

namespace {

Malformed malformed_reason(dataplane::RxMalformed m) {
    switch (m) {
        case dataplane::RxMalformed::kTruncatedL2:
            return Malformed::kTruncatedL2;
        case dataplane::RxMalformed::kTruncatedL3:
            return Malformed::kTruncatedL3;
        case dataplane::RxMalformed::kBadIpHeader:
            return Malformed::kBadIpHeader;
        case dataplane::RxMalformed::kBadIpv4Checksum:
            return Malformed::kBadIpv4Checksum;
        case dataplane::RxMalformed::kBadUdpLength:
            return Malformed::kBadUdpLength;
        case dataplane::RxMalformed::kOversizedFrame:
            return Malformed::kOversizedFrame;
        case dataplane::RxMalformed::kFlowBadVersion:
            return Malformed::kFlowBadVersion;
        case dataplane::RxMalformed::kCount:
            break;
    }
    return Malformed::kCount;
}

Dropped dropped_reason(dataplane::RxDropped d) {
    switch (d) {
        case dataplane::RxDropped::kNotIp:
            return Dropped::kNotIp;
        case dataplane::RxDropped::kNotUdp:
            return Dropped::kNotUdp;
        case dataplane::RxDropped::kNotTelemetry:
            return Dropped::kNotTelemetry;
        case dataplane::RxDropped::kIpv6Fragment:
            return Dropped::kIpv6Fragment;
        case dataplane::RxDropped::kFragmentDiscarded:
            return Dropped::kFragmentDiscarded;
        case dataplane::RxDropped::kFragmentIncomplete:
            return Dropped::kFragmentIncomplete;
        case dataplane::RxDropped::kUnbatchable:  // lost on the way to the backend
            return Dropped::kBackendError;
        case dataplane::RxDropped::kCount:
            break;
    }
    return Dropped::kCount;
}

}  // namespace

void Counters::add_rx(const dataplane::RxCounters &rx) {
    rx_packets += rx.rx_packets;
    rx_bytes += rx.rx_bytes;
    merged_fragments += rx.merged_fragments;
    for (size_t i = 0; i < rx.malformed.size(); ++i)
        malformed[static_cast<size_t>(malformed_reason(static_cast<dataplane::RxMalformed>(i)))] +=
            rx.malformed[i];
    for (size_t i = 0; i < rx.dropped.size(); ++i)
        dropped[static_cast<size_t>(dropped_reason(static_cast<dataplane::RxDropped>(i)))] +=
            rx.dropped[i];
    reassembled_datagrams += rx.reassembled_datagrams;
    syslog_truncated += rx.syslog_truncated;
    batches += rx.batches;
    idle_sleeps += rx.idle_sleeps;
    add_as_array(tcp, rx.tcp);
}

OffloadCounters &OffloadCounters::operator+=(const OffloadCounters &o) {
    batches += o.batches;
    ring_full += o.ring_full;
    timeouts += o.timeouts;
    device_errors += o.device_errors;
    bad_tables += o.bad_tables;
    return *this;
}

uint64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
    }
    return 0;
}

namespace {

std::string flow_counters_json(const FlowCounters &f) {
    const hls_kernels::FlowParseCounters &e = f.engine;
    const AggregateCounters &a = f.aggregate;
    const TemplateSharingCounters &s = f.sharing;
    using R = hls_kernels::TemplateRejected;
    const auto rejected = [&e](R r) { return e.templates_rejected[static_cast<size_t>(r)]; };
    return fmt::format(
        "{{\"records\":{},\"produced\":{},\"filtered\":{},\"dropped_queue_full\":{},"
        "\"dropped_produce_error\":{},\"aggregated\":{},\"items_lost\":{},\"invalid_items\":{},"
        "\"options_records\":{}"
        ","
        "\"named_by_core_fields\":{},\"state_changes_out_of_step\":{},\"sampling_overridden\":{},"
        "\"field_length_mismatches\":{},"
        "\"sets_without_template\":{},\"sets_held\":{},\"sets_overflow\":{},"
        "\"sets_resolved\":{},\"sets_expired\":{},\"sets_unresolved\":{},"
        "\"templates_restored\":{},\"template_saves\":{},\"template_save_errors\":{},"
        "\"aggregate\":{{\"records\":{},\"open_records\":{},\"late_records\":{},\"events\":{},"
        "\"early_events\":{},\"early_flushes\":{},\"produced\":{},\"dropped\":{},"
        "\"records_produced\":{},\"records_dropped\":{}}},"
        "\"template_sharing\":{{\"published\":{},\"republished\":{},\"publish_refused\":{},"
        "\"publish_failed\":{},\"received\":{},\"own\":{},\"rejected\":{},\"over_limit\":{},"
        "\"taken\":{},\"offered\":{},\"installed\":{},\"refreshed\":{},\"known\":{},"
        "\"older\":{},\"refused\":{},"
        "\"unapplied\":{}}},"
        "\"engine\":{{\"packets\":{},\"records\":{},\"records_truncated\":{},"
        "\"sets_unknown_id\":{},\"templates_learned\":{},\"templates_refreshed\":{},"
        "\"templates_replaced\":{},\"templates_withdrawn\":{},\"templates_evicted\":{},"
        "\"templates_expired\":{},\"templates_rejected\":{{\"reserved_id\":{},"
        "\"no_fields\":{},\"too_many_fields\":{},\"zero_length\":{},"
        "\"record_too_long\":{},\"length_mismatch\":{},"
        "\"truncated\":{}}},\"sampling_updates\":{},\"exporter_option_evictions\":{},"
        "\"changes_refused\":{},\"bad_batches\":{}}}}}",
        f.records, f.produced, f.filtered, f.dropped_queue_full, f.dropped_produce_error,
        f.aggregated, f.items_lost, f.invalid_items, f.options_records, f.named_by_core_fields,
        f.state_changes_out_of_step, f.sampling_overridden, f.field_length_mismatches,
        f.sets_without_template, f.sets_held, f.sets_overflow, f.sets_resolved, f.sets_expired,
        f.sets_unresolved, f.templates_restored, f.template_saves, f.template_save_errors,
        a.records, a.open_records, a.late_records, a.events, a.early_events, a.early_flushes,
        a.produced, a.dropped, a.records_produced, a.records_dropped, s.published, s.republished,
        s.publish_refused, s.publish_failed, s.received, s.own, s.rejected, s.over_limit, s.taken,
        s.offered, s.installed, s.refreshed, s.known, s.older, s.refused, s.unapplied, e.packets,
        e.records, e.records_truncated, e.sets_unknown_id, e.templates_learned,
        e.templates_refreshed, e.templates_replaced, e.templates_withdrawn, e.templates_evicted,
        e.templates_expired, rejected(R::kReservedId), rejected(R::kNoFields),
        rejected(R::kTooManyFields), rejected(R::kZeroLength), rejected(R::kRecordTooLong),
        rejected(R::kLengthMismatch), rejected(R::kTruncated), e.sampling_updates,
        e.exporter_option_evictions, e.changes_refused, e.bad_batches);
}

std::string tcp_counters_json(const dataplane::RxTcpCounters &t) {
    const dataplane::SyslogTcpCounters &c = t.table;
    std::string outcomes;
    for (const NamedCount &o : tcp_segment_outcomes(t)) {
        outcomes += fmt::format(",\"{}\":{}", o.name, o.value);
    }
    return fmt::format(
        "{{\"segments\":{}{},\"messages\":{},"
        "\"connections\":{{\"opened\":{},\"mid_stream\":{},\"closed\":{},\"expired\":{},"
        "\"shutdown\":{}}},"
        "\"bytes\":{{\"payload\":{},\"unfollowed\":{},\"delivered\":{},\"duplicate\":{},"
        "\"out_of_window\":{},\"over_budget\":{},\"gap\":{},\"encrypted\":{},\"framed\":{},"
        "\"skipped\":{},\"cut\":{},\"oversize\":{}}},"
        "\"conflicts\":{},\"gaps\":{},\"framed_messages\":{},\"cut_messages\":{},"
        "\"oversize_messages\":{},\"bad_headers\":{},\"resyncs\":{}}}",
        t.segments(), outcomes, t.messages, c.connections_opened, c.connections_mid_stream,
        c.connections_closed, c.connections_expired, c.connections_shutdown, t.payload_bytes,
        c.unfollowed_bytes, c.stream.delivered_bytes, c.stream.duplicate_bytes,
        c.stream.out_of_window_bytes, c.stream.over_budget_bytes, c.stream.gap_bytes,
        t.encrypted_bytes, c.framing.framed_bytes, c.framing.skipped_bytes, c.framing.cut_bytes,
        c.framing.oversize_bytes, c.stream.conflict_segments, c.stream.gaps, c.framing.messages,
        c.framing.cut_messages, c.framing.oversize_messages, c.framing.bad_headers,
        c.framing.resyncs);
}

std::string sflow_counters_json(const SflowCounters &s) {
    const hls_kernels::SflowParseCounters &e = s.engine;
    return fmt::format(
        "{{\"samples\":{},\"flow_samples\":{},\"counter_samples\":{},\"produced\":{},"
        "\"filtered\":{},\"dropped_queue_full\":{},\"dropped_produce_error\":{},\"aggregated\":{},"
        "\"samples_lost\":{},\"invalid_items\":{},\"sampling_overridden\":{},"
        "\"engine\":{{\"datagrams\":{},\"flow_samples\":{},\"counter_samples\":{},"
        "\"samples_unknown\":{},\"samples_over_limit\":{},\"records\":{},"
        "\"records_unknown\":{},\"records_short\":{},\"records_over_limit\":{},"
        "\"headers_decoded\":{},\"headers_other\":{},\"headers_cut\":{},"
        "\"items_output_full\":{},\"bad_batches\":{}}}}}",
        s.samples, s.flow_samples, s.counter_samples, s.produced, s.filtered, s.dropped_queue_full,
        s.dropped_produce_error, s.aggregated, s.samples_lost, s.invalid_items,
        s.sampling_overridden, e.datagrams, e.flow_samples, e.counter_samples, e.samples_unknown,
        e.samples_over_limit, e.records, e.records_unknown, e.records_short, e.records_over_limit,
        e.headers_decoded, e.headers_other, e.headers_cut, e.items_output_full, e.bad_batches);
}

}  // namespace

std::string counters_to_json(const Counters &c, const DeliveryCounters &d, const PortCounters &port,
                             const SpoolCounters *spool, uint64_t peak_rss,
                             const std::string &sift_json) {
    std::string spool_json = "null";
    if (spool) {
        spool_json = fmt::format(
            "{{\"records\":{},\"bytes\":{},\"oldest_spooled_ns\":{},\"appended\":{},\"full_drops\":"
            "{},"
            "\"io_errors\":{},\"corrupt_tails\":{},\"recovered_records\":{},\"fsyncs\":{}}}",
            spool->records, spool->bytes, spool->oldest_spooled_ns, spool->appended,
            spool->full_drops, spool->io_errors, spool->corrupt_tails, spool->recovered_records,
            spool->fsyncs);
    }
    std::string malformed;
    for (size_t i = 0; i < c.malformed.size(); ++i) {
        malformed += fmt::format("{}\"{}\":{}", i ? "," : "", name_of(static_cast<Malformed>(i)),
                                 c.malformed[i]);
    }
    std::string dropped;
    for (size_t i = 0; i < c.dropped.size(); ++i) {
        dropped += fmt::format("{}\"{}\":{}", i ? "," : "", name_of(static_cast<Dropped>(i)),
                               c.dropped[i]);
    }
    return fmt::format(
        "{{\"rx_packets\":{},\"rx_bytes\":{},\"produced\":{},\"filtered\":{},"
        "\"deduplicated\":{},\"routed\":{},\"threat_matches\":{},\"cef_events\":{},"
        "\"leef_events\":{},\"sec_malformed\":{},\"dedup_evicted\":{},{}"
        "\"flow_packets\":{},\"flow\":{},\"sflow_packets\":{},\"sflow\":{},\"tcp\":{},"
        "\"merged_fragments\":{},\"malformed\":{{{}}},\"malformed_"
        "total\":{},"
        "\"dropped\":{{{}}},\"dropped_total\":{},\"balanced\":{},"
        "\"delivered\":{},\"delivery_failed\":{},\"reassembled_datagrams\":{},"
        "\"syslog_truncated\":{},\"syslog_no_pri\":{},\"syslog_no_timestamp\":{},"
        "\"syslog_bad_structured_data\":{},\"invalid_utf8_events\":{},\"batches\":{},"
        "\"idle_sleeps\":{},"
        "\"produced_to_spool\":{},\"spooled_after_failure\":{},\"replayed_from_spool\":{},"
        "\"spool\":{},\"offload\":{{\"batches\":{},\"ring_full\":{},\"timeouts\":{},"
        "\"device_errors\":{},\"bad_tables\":{}}},"
        "\"port\":{{\"imissed\":{},\"ierrors\":{},\"rx_nombuf\":{}}},\"peak_rss_bytes\":{}}}",
        c.rx_packets, c.rx_bytes, c.produced, c.filtered, c.deduplicated, c.routed,
        c.threat_matches, c.cef_events, c.leef_events, c.sec_malformed, c.dedup_evicted,
        sift_json.empty() ? std::string() : "\"sift\":" + sift_json + ",", c.flow_packets,
        flow_counters_json(c.flow), c.sflow_packets, sflow_counters_json(c.sflow),
        tcp_counters_json(c.tcp), c.merged_fragments, malformed, c.malformed_total(), dropped,
        c.dropped_total(), c.balanced() ? "true" : "false", d.delivered, d.failed,
        c.reassembled_datagrams, c.syslog_truncated, c.syslog_no_pri, c.syslog_no_timestamp,
        c.syslog_bad_structured_data, c.invalid_utf8_events, c.batches, c.idle_sleeps,
        c.produced_to_spool, d.spooled_after_failure, d.replayed_from_spool, spool_json,
        c.offload.batches, c.offload.ring_full, c.offload.timeouts, c.offload.device_errors,
        c.offload.bad_tables, port.imissed, port.ierrors, port.rx_nombuf, peak_rss);
}

}  // namespace tapsift
