#include "metrics/counters.hpp"

#include <fmt/format.h>

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
        case Dropped::kProducerQueueFull:
            return "producer_queue_full";
        case Dropped::kProduceError:
            return "produce_error";
        case Dropped::kCount:
            break;
    }
    return "?";
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

bool Counters::balanced() const {
    return rx_packets ==
           produced + filtered + merged_fragments + malformed_total() + dropped_total();
}

Counters &Counters::operator+=(const Counters &o) {
    rx_packets += o.rx_packets;
    rx_bytes += o.rx_bytes;
    produced += o.produced;
    filtered += o.filtered;
    merged_fragments += o.merged_fragments;
    for (size_t i = 0; i < malformed.size(); ++i) malformed[i] += o.malformed[i];
    for (size_t i = 0; i < dropped.size(); ++i) dropped[i] += o.dropped[i];
    reassembled_datagrams += o.reassembled_datagrams;
    produced_to_spool += o.produced_to_spool;
    syslog_truncated += o.syslog_truncated;
    syslog_no_pri += o.syslog_no_pri;
    syslog_no_timestamp += o.syslog_no_timestamp;
    syslog_bad_structured_data += o.syslog_bad_structured_data;
    invalid_utf8_events += o.invalid_utf8_events;
    batches += o.batches;
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

std::string counters_to_json(const Counters &c, const DeliveryCounters &d, const PortCounters &port,
                             const SpoolCounters *spool, uint64_t peak_rss) {
    std::string spool_json = "null";
    if (spool) {
        spool_json = fmt::format(
            "{{\"records\":{},\"bytes\":{},\"oldest_spooled_ns\":{},\"appended\":{},\"full_drops\":"
            "{},"
            "\"io_errors\":{},\"corrupt_tails\":{},\"recovered_records\":{}}}",
            spool->records, spool->bytes, spool->oldest_spooled_ns, spool->appended,
            spool->full_drops, spool->io_errors, spool->corrupt_tails, spool->recovered_records);
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
        "\"merged_fragments\":{},\"malformed\":{{{}}},\"malformed_total\":{},"
        "\"dropped\":{{{}}},\"dropped_total\":{},\"balanced\":{},"
        "\"delivered\":{},\"delivery_failed\":{},\"reassembled_datagrams\":{},"
        "\"syslog_truncated\":{},\"syslog_no_pri\":{},\"syslog_no_timestamp\":{},"
        "\"syslog_bad_structured_data\":{},\"invalid_utf8_events\":{},\"batches\":{},"
        "\"produced_to_spool\":{},\"spooled_after_failure\":{},\"replayed_from_spool\":{},"
        "\"spool\":{},"
        "\"port\":{{\"imissed\":{},\"ierrors\":{},\"rx_nombuf\":{}}},\"peak_rss_bytes\":{}}}",
        c.rx_packets, c.rx_bytes, c.produced, c.filtered, c.merged_fragments, malformed,
        c.malformed_total(), dropped, c.dropped_total(), c.balanced() ? "true" : "false",
        d.delivered, d.failed, c.reassembled_datagrams, c.syslog_truncated, c.syslog_no_pri,
        c.syslog_no_timestamp, c.syslog_bad_structured_data, c.invalid_utf8_events, c.batches,
        c.produced_to_spool, d.spooled_after_failure, d.replayed_from_spool, spool_json,
        port.imissed, port.ierrors, port.rx_nombuf, peak_rss);
}

}  // namespace tapsift
