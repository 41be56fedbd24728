#include "prometheus_collector.hpp"

#include <fmt/format.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <limits>
#include <map>
#include <tuple>

#include "event/format.hpp"

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

// One series per label value, as (value, count) pairs.
prometheus::MetricFamily labelled(const char *name, const char *help, const char *label,
                                  const std::vector<std::pair<std::string, uint64_t>> &values) {
    prometheus::MetricFamily f{name, help, prometheus::MetricType::Counter, {}};
    for (const auto &[value, count] : values) {
        prometheus::ClientMetric m = counter_value(count);
        m.label.push_back({label, value});
        f.metric.push_back(m);
    }
    return f;
}

// Syslog TCP segments by outcome: with the messages framed from them, they extend the identity.
prometheus::MetricFamily tcp_segments(const dataplane::RxTcpCounters &t) {
    std::vector<std::pair<std::string, uint64_t>> outcomes;
    for (const NamedCount &o : tcp_segment_outcomes(t)) outcomes.emplace_back(o.name, o.value);
    return labelled("tapsift_syslog_tcp_segments_total", "Syslog TCP and TLS segments, by outcome",
                    "outcome", outcomes);
}

prometheus::ClientMetric histogram_value(const DurationHistogram &h) {
    prometheus::ClientMetric m;
    m.histogram.sample_count = h.count();
    m.histogram.sample_sum = static_cast<double>(h.sum_ns) / 1e9;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        const double le = i < DurationHistogram::kUpperBoundsNs.size()
                              ? static_cast<double>(DurationHistogram::kUpperBoundsNs[i]) / 1e9
                              : std::numeric_limits<double>::infinity();
        m.histogram.bucket.push_back({cumulative, le});
    }
    return m;
}

// The top senders (or exporters) by address, and the rest as "other".
prometheus::MetricFamily top_family(const char *name, const char *help, const char *label,
                                    const TopN &top) {
    std::vector<std::pair<std::string, uint64_t>> values;
    for (const SourceCount &s : top.top)
        values.emplace_back(std::string(event::address_text(s.address.data()).view()), s.count);
    values.emplace_back("other", top.other);
    return labelled(name, help, label, values);
}

// The lcores' breakdowns, summed: rules by id, queues side by side, sources merged.
struct BreakdownSum {
    std::map<std::string, sift::RuleCounters> rules;
    std::vector<QueueRx> queues;
    TopN senders;
    TopN exporters;
    DurationHistogram syslog_batch_time;
    DurationHistogram flow_batch_time;
};

BreakdownSum sum_breakdowns(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores,
                            size_t top_n) {
    BreakdownSum sum;
    std::vector<LcoreBreakdown> copies(lcores.size());  // so no lcore's lock is held for long
    for (size_t l = 0; l < lcores.size(); ++l)
        lcores[l]->read_breakdown([&](const LcoreBreakdown &b) { copies[l] = b; });
    std::vector<const TopSources *> senders, exporters;
    for (const LcoreBreakdown &b : copies) {
        for (const auto &[id, c] : b.rules) sum.rules[id] += c;
        sum.queues.insert(sum.queues.end(), b.queues.begin(), b.queues.end());
        senders.push_back(&b.syslog_senders);
        exporters.push_back(&b.flow_exporters);
        sum.syslog_batch_time += b.syslog_batch_time;
        sum.flow_batch_time += b.flow_batch_time;
    }
    sum.senders = merge_top(senders, top_n);
    sum.exporters = merge_top(exporters, top_n);
    return sum;
}

void add_breakdown(std::vector<prometheus::MetricFamily> &out, const BreakdownSum &b) {
    using Figure = uint64_t sift::RuleCounters::*;
    const std::tuple<const char *, const char *, Figure> rule_figures[] = {
        {"tapsift_rule_matched_total", "Records a rule matched", &sift::RuleCounters::matched},
        {"tapsift_rule_dropped_total", "Records a rule dropped (drop, sample's unselected)",
         &sift::RuleCounters::dropped},
        {"tapsift_rule_kept_total", "Records a rule kept (keep, sample's selected)",
         &sift::RuleCounters::kept},
        {"tapsift_rule_routed_total", "Records a rule routed to its topic",
         &sift::RuleCounters::routed},
        {"tapsift_rule_tagged_total", "Records a rule tagged", &sift::RuleCounters::tagged},
    };
    for (const auto &[name, help, figure] : rule_figures) {
        std::vector<std::pair<std::string, uint64_t>> values;
        for (const auto &[id, c] : b.rules) values.emplace_back(id, c.*figure);
        out.push_back(labelled(name, help, "rule", values));
    }
    prometheus::MetricFamily packets{"tapsift_queue_rx_packets_total",
                                     "Packets an RX queue received",
                                     prometheus::MetricType::Counter,
                                     {}};
    prometheus::MetricFamily bytes{"tapsift_queue_rx_bytes_total",
                                   "Bytes an RX queue received",
                                   prometheus::MetricType::Counter,
                                   {}};
    for (const QueueRx &q : b.queues) {
        const std::vector<prometheus::ClientMetric::Label> labels = {
            {"port", q.port}, {"queue", std::to_string(q.queue)}};
        packets.metric.push_back(counter_value(q.rx.packets));
        packets.metric.back().label = labels;
        bytes.metric.push_back(counter_value(q.rx.bytes));
        bytes.metric.back().label = labels;
    }
    out.push_back(packets);
    out.push_back(bytes);
    out.push_back(top_family("tapsift_syslog_sender_datagrams_total",
                             "Syslog datagrams by sender address: the top metrics.top_sources, "
                             "the rest as other",
                             "sender", b.senders));
    out.push_back(top_family("tapsift_flow_exporter_datagrams_total",
                             "Flow datagrams by exporter address: the top metrics.top_sources, "
                             "the rest as other",
                             "exporter", b.exporters));
    prometheus::MetricFamily batch{
        "tapsift_batch_duration_seconds",
        "Offload backend time per batch, submit to collect",
        prometheus::MetricType::Histogram,
        {histogram_value(b.syslog_batch_time), histogram_value(b.flow_batch_time)}};
    batch.metric[0].label.push_back({"kind", "syslog"});
    batch.metric[1].label.push_back({"kind", "flow"});
    out.push_back(batch);
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
        counter("tapsift_sflow_packets_total", "sFlow datagrams decoded", c.sflow_packets),
        counter("tapsift_sflow_samples_total", "sFlow samples the kernel returned",
                c.sflow.samples),
        counter("tapsift_sflow_samples_produced_total", "sFlow sample events produced",
                c.sflow.produced),
        counter("tapsift_sflow_samples_filtered_total", "sFlow samples dropped by a rule",
                c.sflow.filtered),
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
        {"tapsift_delivery_latency_seconds",
         "Event handed to librdkafka to its successful delivery report",
         prometheus::MetricType::Histogram,
         {histogram_value(producer_.delivery_latency())}},
    };
    add_breakdown(out, sum_breakdowns(lcores_, top_n_));
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
        "sflow_packets={} merged_fragments={} malformed={} dropped={} flow_records={} "
        "flow_produced={} sflow_samples={} sflow_produced={} tcp_segments={} tcp_messages={} "
        "balanced={}",
        c.rx_packets, c.rx_bytes, c.produced, c.filtered, c.flow_packets, c.sflow_packets,
        c.merged_fragments, c.malformed_total(), c.dropped_total(), c.flow.records, c.flow.produced,
        c.sflow.samples, c.sflow.produced, c.tcp.segments(), c.tcp.messages,
        c.balanced() ? "yes" : "no");
}

}  // namespace tapsift
