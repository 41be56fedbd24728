#include "prometheus_collector.hpp"

#include <fmt/format.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

namespace tapsift {
namespace {

prometheus::ClientMetric counter_value(uint64_t v) {
    prometheus::ClientMetric m;
    m.counter.value = static_cast<double>(v);
    return m;
}

prometheus::MetricFamily counter(const char *name, const char *help, uint64_t v) {
    return {name, help, prometheus::MetricType::Counter, {counter_value(v)}};
}

prometheus::MetricFamily gauge(const char *name, const char *help, double v) {
    prometheus::ClientMetric m;
    m.gauge.value = v;
    return {name, help, prometheus::MetricType::Gauge, {m}};
}

// One series per reason, every reason present (a zero is a figure too).
template <typename Reason, size_t N>
prometheus::MetricFamily by_reason(const char *name, const char *help,
                                   const std::array<uint64_t, N> &values) {
    prometheus::MetricFamily f{name, help, prometheus::MetricType::Counter, {}};
    for (size_t i = 0; i < N; ++i) {
        prometheus::ClientMetric m = counter_value(values[i]);
        m.label.push_back({"reason", name_of(static_cast<Reason>(i))});
        f.metric.push_back(m);
    }
    return f;
}

// Syslog TCP segments by outcome: with the messages framed from them, they extend the identity.
prometheus::MetricFamily tcp_segments(const dataplane::RxTcpCounters &t) {
    prometheus::MetricFamily f{"tapsift_syslog_tcp_segments_total",
                               "Syslog TCP and TLS segments, by outcome",
                               prometheus::MetricType::Counter,
                               {}};
    for (const NamedCount &o : tcp_segment_outcomes(t)) {
        prometheus::ClientMetric m = counter_value(o.value);
        m.label.push_back({"outcome", o.name});
        f.metric.push_back(m);
    }
    return f;
}

}  // namespace

Counters sum_snapshots(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores) {
    Counters sum;
    for (const auto &l : lcores) l->add_to(sum);
    return sum;
}

std::vector<prometheus::MetricFamily> PrometheusCollector::Collect() const {
    const Counters c = sum_snapshots(lcores_);
    const FlowCounters &f = c.flow;
    const DeliveryCounters d = producer_.delivery();
    std::vector<prometheus::MetricFamily> out = {
        counter("tapsift_rx_packets_total", "Packets the RX loops received", c.rx_packets),
        counter("tapsift_rx_bytes_total", "Bytes the RX loops received", c.rx_bytes),
        counter("tapsift_produced_total", "Syslog events the Kafka producer accepted", c.produced),
        counter("tapsift_filtered_total", "Events dropped by a rule", c.filtered),
        counter("tapsift_flow_packets_total", "Flow datagrams decoded", c.flow_packets),
        counter("tapsift_merged_fragments_total", "IPv4 fragments folded into a datagram",
                c.merged_fragments),
        by_reason<Malformed>("tapsift_malformed_total", "Packets rejected as malformed",
                             c.malformed),
        by_reason<Dropped>("tapsift_dropped_total", "Packets dropped, by reason", c.dropped),
        counter("tapsift_deduplicated_total", "Events folded into an identical event",
                c.deduplicated),
        tcp_segments(c.tcp),
        counter("tapsift_syslog_tcp_messages_total",
                "Syslog messages framed from TCP streams into the syslog batches", c.tcp.messages),
        counter("tapsift_syslog_tcp_cut_messages_total",
                "Syslog TCP messages cut by a gap or the end of the stream",
                c.tcp.table.framing.cut_messages),
        counter("tapsift_produced_to_spool_total", "Of produced: straight to the spool",
                c.produced_to_spool),
        counter("tapsift_threat_matches_total", "Events carrying threat.enrichments",
                c.threat_matches),
        counter("tapsift_batches_total", "Ingest batches handed to the backend", c.batches),
        counter("tapsift_flow_records_total", "Flow records the kernel returned", f.records),
        counter("tapsift_flow_records_produced_total", "Flow record events produced", f.produced),
        counter("tapsift_flow_records_filtered_total", "Flow records dropped by a rule",
                f.filtered),
        counter("tapsift_offload_batches_total", "Batches collected from the offload backend",
                c.offload.batches),
        counter("tapsift_offload_timeouts_total", "Backend runs aborted after the timeout",
                c.offload.timeouts),
        counter("tapsift_offload_device_errors_total", "Backend runs that failed",
                c.offload.device_errors),
        counter("tapsift_delivered_total", "Events the brokers acknowledged", d.delivered),
        counter("tapsift_delivery_failed_total", "Events lost: delivery failed, no spool",
                d.failed),
        counter("tapsift_spooled_after_failure_total", "Events kept in the spool after a failure",
                d.spooled_after_failure),
        counter("tapsift_replayed_from_spool_total", "Events produced again from the spool",
                d.replayed_from_spool),
        gauge("tapsift_producer_outstanding_events", "Events accepted with no delivery report yet",
              static_cast<double>(producer_.outstanding())),
    };
    {
        std::lock_guard<std::mutex> lock(port_mu_);
        if (port_stats_) {
            const PortCounters p = port_stats_();
            out.push_back(counter("tapsift_nic_missed_packets_total",
                                  "Packets the NICs dropped: no room in the RX ring", p.imissed));
            out.push_back(counter("tapsift_nic_errors_total", "Erroneous packets the NICs received",
                                  p.ierrors));
            out.push_back(counter("tapsift_nic_no_mbuf_total",
                                  "Packets the NICs dropped: no mbuf in the pool", p.rx_nombuf));
        }
    }
    if (const auto spool = producer_.spool_stats()) {
        out.push_back(gauge("tapsift_spool_bytes", "Bytes in the spool now",
                            static_cast<double>(spool->bytes)));
        out.push_back(gauge("tapsift_spool_records", "Events in the spool now",
                            static_cast<double>(spool->records)));
        out.push_back(counter("tapsift_spool_full_drops_total",
                              "Events the spool refused (kafka.spool.max_bytes)",
                              spool->full_drops));
    }
    return out;
}

void PrometheusCollector::set_port_stats(std::function<PortCounters()> read) {
    std::lock_guard<std::mutex> lock(port_mu_);
    port_stats_ = std::move(read);
}

std::string summary_line(const Counters &c) {
    return fmt::format(
        "stats: rx_packets={} rx_bytes={} produced={} filtered={} flow_packets={} "
        "merged_fragments={} malformed={} dropped={} flow_records={} flow_produced={} "
        "tcp_segments={} tcp_messages={} balanced={}",
        c.rx_packets, c.rx_bytes, c.produced, c.filtered, c.flow_packets, c.merged_fragments,
        c.malformed_total(), c.dropped_total(), c.flow.records, c.flow.produced, c.tcp.segments(),
        c.tcp.messages, c.balanced() ? "yes" : "no");
}

}  // namespace tapsift
