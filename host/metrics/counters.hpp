// Every packet that reaches a port ends in exactly one terminal counter, and every syslog
// message framed from a TCP stream (tcp.messages) enters as one more:
//
//   rx_packets + tcp.messages = produced + filtered + deduplicated + flow_packets + sflow_packets
//                               + merged_fragments + sum(malformed) + sum(dropped)
//                               + tcp.segments()
//
// merged_fragments counts IPv4 fragments folded into a reassembled datagram (the datagram itself
// is counted once, by whatever happens to it). A syslog TCP segment ends in tcp.segments() (one
// outcome each, dataplane/rx_counters.hpp); the messages framed from the streams then end like UDP
// syslog datagrams, in produced, filtered, deduplicated, malformed or dropped. A flow datagram
// holds many records, so once decoded (flow_packets) its records have their own identity, in
// FlowCounters; an sFlow datagram's samples (sflow_packets) theirs, in SflowCounters. Each lcore
// owns one Counters, and its RX loop a dataplane::RxCounters folded in by add_rx; totals are
// summed.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "flow_parse/flow_parse.hpp"
#include "sflow_parse/sflow_parse.hpp"
#include "port_counters.hpp"
#include "rx_counters.hpp"

namespace tapsift {

enum class Malformed : uint8_t {
    kTruncatedL2,
    kTruncatedL3,
    kBadIpHeader,
    kBadIpv4Checksum,
    kBadUdpLength,
    kOversizedFrame,  // larger than the largest UDP datagram (a jumbo capture, or fragments past 64
                      // KiB)
    kSyslogEmpty,
    kSyslogBadPri,
    kFlowBadVersion,  // on a flow port, but not NetFlow v5/v9 or IPFIX
    kFlowTruncatedHeader,
    kFlowBadLength,     // IPFIX length disagrees with the datagram; v5 count runs past it
    kFlowBadSetLength,  // a set shorter than its header, or running past the datagram
    // sFlow datagrams, by wire::SflowMalformed (the samples before the fault are still decoded)
    kSflowTruncatedHeader,
    kSflowBadVersion,  // not version 5 (a NetFlow datagram on an sFlow port is one)
    kSflowBadAgentType,
    kSflowBadSampleLength,
    kSflowBadRecordLength,
    kSflowBadSampleHeader,
    kSflowMissingSamples,
    kCount
};

enum class Dropped : uint8_t {
    kNotIp,
    kNotUdp,
    kNotTelemetry,
    kIpv6Fragment,
    kFragmentDiscarded,   // expired, evicted, overlapping, or no room in the reassembly table
    kFragmentIncomplete,  // still waiting for its other fragments at shutdown
    kBackendError,        // the device failed the batch, or returned descriptors the host rejects
    kBackendTimeout,      // the device did not finish the batch within offload.run_timeout_ms
    kProducerQueueFull,
    kProduceError,
    kCount
};

const char *name_of(Malformed m);
const char *name_of(Dropped d);

// The terminal outcomes of syslog TCP segments, by the names the stats JSON and the metrics use;
// they sum to t.segments().
struct NamedCount {
    const char *name;
    uint64_t value;
};
std::array<NamedCount, 8> tcp_segment_outcomes(const dataplane::RxTcpCounters &t);

// Aggregation mode (flows.aggregate): records folded into aggregates, and what became of the
// aggregate events.
//
//   records = records_produced + records_dropped + open_records
//   events = produced + dropped
struct AggregateCounters {
    uint64_t records = 0;           // records folded (each ends here in FlowCounters' identity)
    uint64_t open_records = 0;      // of records: in aggregates not emitted yet
    uint64_t late_records = 0;      // of records: their window had been emitted already
    uint64_t events = 0;            // aggregate events emitted
    uint64_t early_events = 0;      // of events: emitted before their window closed (table full)
    uint64_t early_flushes = 0;     // times the table was full (flows.aggregate.max_keys)
    uint64_t produced = 0;          // events the producer accepted
    uint64_t dropped = 0;           // events the producer refused (queue full or error)
    uint64_t records_produced = 0;  // records in produced events
    uint64_t records_dropped = 0;   // records in dropped events: lost

    bool balanced() const;
    AggregateCounters &operator+=(const AggregateCounters &o);
};

// What happens to flow records and to the data sets that wait for their template.
//
//   records = produced + filtered + dropped_queue_full + dropped_produce_error + aggregated
//   sets_without_template = sets_held + sets_overflow
//   sets_held = sets_resolved + sets_expired + sets_unresolved + (still held)
// The offload backend's own counters (drivers/offload_backend.hpp), as of the end of the run.
struct OffloadCounters {
    uint64_t batches = 0;        // collected from the backend
    uint64_t ring_full = 0;      // submits that waited for a slot (back-pressure on the RX loop)
    uint64_t timeouts = 0;       // runs aborted after offload.run_timeout_ms
    uint64_t device_errors = 0;  // runs that failed
    uint64_t bad_tables = 0;     // batches sifted without rules: the table image was not valid
    OffloadCounters &operator+=(const OffloadCounters &o);
};

// flows.template_sharing (host/flow/template_sharing.hpp). The topic side: every message read
// is own (this gateway's, not taken back), rejected (bad version, size, record or key; logged),
// over_limit (max_templates), or taken, and each taken template is offered to every engine. The
// engine side: each offered one is installed (the engine learned it), refreshed (it held the
// same definition, seen earlier than this copy: its expiry starts again), known (it held the same
// definition, seen no earlier), older (it held another one, learned from the wire no earlier: the
// wire wins), refused (the engine would not learn it), or unapplied (still waiting at shutdown,
// or lost with its batch to a device fault).
struct TemplateSharingCounters {
    uint64_t published = 0;        // templates learned from the wire, taken by the producer
    uint64_t republished = 0;      // of published: refreshes (the same definition said again)
    uint64_t publish_refused = 0;  // the producer would not take them (logged)
    uint64_t publish_failed = 0;   // taken, then not delivered (logged)
    uint64_t received = 0;
    uint64_t own = 0;
    uint64_t rejected = 0;
    uint64_t over_limit = 0;
    uint64_t taken = 0;
    uint64_t offered = 0;
    uint64_t installed = 0;
    uint64_t refreshed = 0;
    uint64_t known = 0;
    uint64_t older = 0;
    uint64_t refused = 0;
    uint64_t unapplied = 0;

    bool balanced() const {
        return received == own + rejected + over_limit + taken &&
               offered == installed + refreshed + known + older + refused + unapplied;
    }
    TemplateSharingCounters &operator+=(const TemplateSharingCounters &o);
};

struct FlowCounters {
    uint64_t records = 0;  // data records the kernel returned (options data included)
    uint64_t produced = 0;
    uint64_t filtered = 0;
    uint64_t dropped_queue_full = 0;
    uint64_t dropped_produce_error = 0;
    uint64_t aggregated = 0;     // folded into aggregates (aggregate.records also counts sFlow's)
    uint64_t items_lost = 0;     // records or sets past a batch's item capacity (kernel-side)
    uint64_t invalid_items = 0;  // items no kernel could write (a device fault): ignored
    uint64_t options_records = 0;
    uint64_t named_by_core_fields = 0;  // the template mirror lacks the record's template: core
                                        // fields only (after a state change item went missing)
    uint64_t state_changes_out_of_step = 0;  // change items the template mirror did not expect
    uint64_t sampling_overridden = 0;        // events whose rate came from flows.sampling_overrides
    uint64_t field_length_mismatches = 0;    // values shown as hex: a length their type cannot have
    uint64_t sets_without_template = 0;
    uint64_t sets_held = 0;
    uint64_t sets_overflow = 0;    // no room: flows.pending_max_bytes(_per_exporter)
    uint64_t sets_resolved = 0;    // decoded once their template arrived
    uint64_t sets_expired = 0;     // flows.pending_timeout_ms passed first (or no room to re-hold)
    uint64_t sets_unresolved = 0;  // still waiting at shutdown
    uint64_t templates_restored = 0;  // loaded from flows.template_dir at start
    uint64_t template_saves = 0;
    uint64_t template_save_errors = 0;
    AggregateCounters aggregate;
    TemplateSharingCounters sharing;
    hls_kernels::FlowParseCounters engine{};  // the flow kernel's own counters

    bool balanced() const;
    FlowCounters &operator+=(const FlowCounters &o);
};

// What happens to sFlow samples (flow and counter samples alike):
//
//   samples = produced + filtered + dropped_queue_full + dropped_produce_error + aggregated
//
// In aggregation mode flow samples fold with flow records into the same aggregates
// (flow.aggregate): flow.aggregate.records = flow.aggregated + sflow.aggregated.
struct SflowCounters {
    uint64_t samples = 0;  // samples the kernel returned
    uint64_t flow_samples = 0;
    uint64_t counter_samples = 0;
    uint64_t produced = 0;
    uint64_t filtered = 0;
    uint64_t dropped_queue_full = 0;
    uint64_t dropped_produce_error = 0;
    uint64_t aggregated = 0;           // flow samples folded into aggregates (flows.aggregate)
    uint64_t samples_lost = 0;         // samples past a batch's item capacity (kernel-side)
    uint64_t invalid_items = 0;        // items no kernel could write (a device fault): ignored
    uint64_t sampling_overridden = 0;  // events whose rate came from flows.sampling_overrides
    hls_kernels::SflowParseCounters engine{};  // the sFlow decoder's own counters

    bool balanced() const {
        return samples ==
               produced + filtered + dropped_queue_full + dropped_produce_error + aggregated;
    }
    SflowCounters &operator+=(const SflowCounters &o);
};

struct Counters {
    uint64_t rx_packets = 0;
    uint64_t rx_bytes = 0;
    uint64_t produced = 0;  // events accepted by the Kafka producer
    uint64_t filtered = 0;  // dropped by a rule
    uint64_t deduplicated =
        0;  // folded into an identical event (sift.dedup), which carries the count
    uint64_t merged_fragments = 0;
    uint64_t flow_packets = 0;   // flow datagrams decoded (wholly or in part)
    uint64_t sflow_packets = 0;  // sFlow datagrams decoded (wholly), not malformed
    std::array<uint64_t, static_cast<size_t>(Malformed::kCount)> malformed{};
    std::array<uint64_t, static_cast<size_t>(Dropped::kCount)> dropped{};

    // Not terminal: what was seen along the way (a truncated record may still be malformed).
    uint64_t reassembled_datagrams = 0;
    uint64_t produced_to_spool = 0;  // of produced: the queue was full, so straight to the spool
    uint64_t syslog_truncated = 0;
    uint64_t syslog_no_pri = 0;
    uint64_t syslog_no_timestamp = 0;
    uint64_t syslog_bad_structured_data = 0;
    uint64_t invalid_utf8_events = 0;
    uint64_t batches = 0;
    uint64_t idle_sleeps = 0;     // the RX loop slept, finding no packet (dataplane.idle)
    uint64_t routed = 0;          // of produced (syslog and flows): to a route rule's topic
    uint64_t threat_matches = 0;  // events carrying threat.enrichments
    uint64_t cef_events = 0;      // syslog events with CEF fields
    uint64_t leef_events = 0;
    uint64_t sec_malformed = 0;  // "CEF:"/"LEEF:" present but the header incomplete: plain syslog
    uint64_t dedup_evicted = 0;  // dedup entries emitted before their window ended, for room
    FlowCounters flow;
    SflowCounters sflow;
    OffloadCounters offload;
    dataplane::RxTcpCounters tcp;  // syslog over TCP, from the RX loops

    void count(Malformed m) { malformed[static_cast<size_t>(m)]++; }
    void count(Dropped d) { dropped[static_cast<size_t>(d)]++; }
    uint64_t malformed_total() const;
    uint64_t dropped_total() const;
    // True when every received packet, flow record and sFlow sample is accounted for exactly once.
    bool balanced() const;
    Counters &operator+=(const Counters &o);
    // Folds in what an lcore's RX loop counted, each reason under its name here.
    void add_rx(const dataplane::RxCounters &rx);
};

// Delivery outcomes are reported by librdkafka after the fact, so they live apart.
struct DeliveryCounters {
    uint64_t delivered = 0;
    uint64_t failed = 0;                 // lost: no spool, or the spool refused it
    uint64_t spooled_after_failure = 0;  // delivery failed (or shutdown deadline): kept on disk
    uint64_t replayed_from_spool = 0;    // produced again from the spool
};

// What the NICs dropped before the RX loop saw it: the dataplane's (dataplane/port_counters.hpp).
using dataplane::PortCounters;

struct SpoolCounters {
    uint64_t records = 0;  // on disk now
    uint64_t bytes = 0;
    int64_t oldest_spooled_ns = 0;  // 0 when empty
    uint64_t appended = 0;          // since start
    uint64_t full_drops = 0;        // refused: kafka.spool.max_bytes reached
    uint64_t io_errors = 0;
    uint64_t corrupt_tails = 0;  // torn or corrupt segment tails cut off (their records are lost)
    uint64_t recovered_records = 0;  // found at start, from an earlier run
    uint64_t fsyncs = 0;             // kafka.spool.fsync: data syncs of the active segment
};

// Peak resident set size of this process (VmHWM in /proc/self/status), in bytes.
uint64_t peak_rss_bytes();

// spool is null when no spool is configured.
// spool is null when no spool is configured; sift_json is an object (rules, reloads) or empty.
std::string counters_to_json(const Counters &c, const DeliveryCounters &d, const PortCounters &port,
                             const SpoolCounters *spool, uint64_t peak_rss,
                             const std::string &sift_json = "");

}  // namespace tapsift
