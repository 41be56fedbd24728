#include "pipeline/gateway.hpp"

#include <rte_launch.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "eal_preflight.hpp"
#include "eal_setup.hpp"
#include "flow/template_sharing.hpp"
#include "event/json_writer.hpp"
#include "kafka/embedded_broker.hpp"
#include "kafka/producer.hpp"
#include "kafka/sample_reader.hpp"
#include "lcore_loop.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_handler.hpp"
#include "pipeline/dataplane_settings.hpp"
#include "metrics/metrics_service.hpp"
#include "sift/reloader.hpp"
#include "sift/ruleset_source.hpp"

namespace tapsift::pipeline {
namespace {

using RuleTable = std::vector<std::pair<std::string, sift::RuleCounters>>;

// Per rule, summed over the lcores, in the order the rules are tried (rules a reload removed come
// last, by name).
RuleTable sum_rule_counters(const std::vector<std::unique_ptr<BatchHandler>> &handlers,
                            const sift::Ruleset &in_force) {
    std::map<std::string, sift::RuleCounters> all;
    for (const auto &h : handlers) {
        for (const auto &[id, c] : h->sifter().rule_counters()) all[id] += c;
    }
    RuleTable table;
    for (const sift::Rule &rule : in_force.rules()) {
        const auto it = all.find(rule.id);
        if (it == all.end()) continue;
        table.emplace_back(*it);
        all.erase(it);
    }
    table.insert(table.end(), all.begin(), all.end());
    return table;
}

// What an lcore publishes beside its counters: the host side's breakdown, and its RX queues'.
void fill_breakdown(const BatchHandler &handler, const dataplane::LcoreContext &ctx,
                    LcoreBreakdown &out) {
    handler.fill_breakdown(out);
    out.queues.resize(ctx.queues.size());
    for (size_t i = 0; i < ctx.queues.size(); ++i) {
        out.queues[i].port = ctx.queues[i].port_name;
        out.queues[i].queue = ctx.queues[i].queue_id;
        out.queues[i].rx = ctx.queue_counters[i];
    }
}

std::string sift_json(const GatewayResult &r, const RuleTable &rules) {
    std::string out = fmt::format("{{\"reloads\":{},\"reloads_failed\":{},\"rules\":{{", r.reloads,
                                  r.reloads_failed);
    bool first = true;
    for (const auto &[id, c] : rules) {
        std::string name;
        event::JsonWriter(name).string(id);
        out += fmt::format(
            "{}{}:{{\"matched\":{},\"dropped\":{},\"kept\":{},\"routed\":{},"
            "\"tagged\":{}}}",
            first ? "" : ",", name, c.matched, c.dropped, c.kept, c.routed, c.tagged);
        first = false;
    }
    return out + "}}";
}

void print_sift(const GatewayResult &r, const RuleTable &rules) {
    const Counters &c = r.counters;
    if (rules.empty() && c.cef_events + c.leef_events + c.threat_matches + c.deduplicated == 0)
        return;
    fmt::print("\nsifting\n");
    fmt::print("  {:<28}{:>10}{:>10}{:>10}{:>10}{:>10}\n", "rule", "matched", "dropped", "kept",
               "routed", "tagged");
    for (const auto &[id, rc] : rules) {
        fmt::print("  {:<28}{:>10}{:>10}{:>10}{:>10}{:>10}\n", id, rc.matched, rc.dropped, rc.kept,
                   rc.routed, rc.tagged);
    }
    fmt::print("  cef {}  leef {}  (malformed header {})  threat matches {}  routed {}\n",
               c.cef_events, c.leef_events, c.sec_malformed, c.threat_matches, c.routed);
    fmt::print("  deduplicated {} (entries emitted early for room: {})  reloads {} (failed {})\n",
               c.deduplicated, c.dedup_evicted, r.reloads, r.reloads_failed);
}

void print_summary(const GatewayResult &r) {
    const Counters &c = r.counters;
    fmt::print("\ncounters\n");
    fmt::print("  rx_packets        {:>12}\n", c.rx_packets);
    if (r.port.total() > 0) {
        fmt::print("  lost at the NIC   {:>12}   imissed {}  ierrors {}  rx_nombuf {}\n",
                   r.port.total(), r.port.imissed, r.port.ierrors, r.port.rx_nombuf);
    }
    fmt::print("  produced          {:>12}   syslog events\n", c.produced);
    fmt::print("  filtered          {:>12}\n", c.filtered);
    if (c.deduplicated > 0) fmt::print("  deduplicated      {:>12}\n", c.deduplicated);
    if (c.flow_packets > 0 || c.flow.records > 0) {
        const FlowCounters &f = c.flow;
        fmt::print(
            "  flow_packets      {:>12}   {} records: {} produced as events, {} aggregated, {} "
            "filtered; {} templates\n",
            c.flow_packets, f.records, f.produced, f.aggregated, f.filtered,
            f.engine.templates_learned);
        fmt::print(
            "    sets without template {}: held {}, resolved {}, overflow {}, expired {}, "
            "unresolved {}\n",
            f.sets_without_template, f.sets_held, f.sets_resolved, f.sets_overflow, f.sets_expired,
            f.sets_unresolved);
    }
    if (c.sflow_packets > 0 || c.sflow.samples > 0) {
        const SflowCounters &s = c.sflow;
        fmt::print(
            "  sflow_packets     {:>12}   {} samples ({} flow, {} counter): {} produced as "
            "events, {} aggregated, {} filtered\n",
            c.sflow_packets, s.samples, s.flow_samples, s.counter_samples, s.produced, s.aggregated,
            s.filtered);
    }
    const AggregateCounters &a = c.flow.aggregate;
    if (a.records > 0) {
        fmt::print(
            "    aggregated {} records and sFlow samples into {} events ({} produced, {} "
            "dropped holding {} records); {} late; table full {} times ({} events early)\n",
            a.records, a.events, a.produced, a.dropped, a.records_dropped, a.late_records,
            a.early_flushes, a.early_events);
    }
    if (c.tcp.segments() > 0) {
        const dataplane::SyslogTcpCounters &t = c.tcp.table;
        fmt::print("  tcp_segments      {:>12}   syslog over TCP:", c.tcp.segments());
        for (const NamedCount &o : tcp_segment_outcomes(c.tcp)) {
            if (o.value) fmt::print(" {} {}", o.name, o.value);
        }
        fmt::print(
            "\n    {} connections ({} mid-stream); {} messages framed, {} cut, {} oversize; {} "
            "gaps, {} conflicting overlaps\n",
            t.connections_opened, t.connections_mid_stream, c.tcp.messages, t.framing.cut_messages,
            t.framing.oversize_messages, t.stream.gaps, t.stream.conflict_segments);
    }
    fmt::print("  merged_fragments  {:>12}\n", c.merged_fragments);
    fmt::print("  malformed         {:>12}\n", c.malformed_total());
    for (size_t i = 0; i < c.malformed.size(); ++i) {
        if (c.malformed[i])
            fmt::print("    {:<24}{:>8}\n", name_of(static_cast<Malformed>(i)), c.malformed[i]);
    }
    fmt::print("  dropped           {:>12}\n", c.dropped_total());
    for (size_t i = 0; i < c.dropped.size(); ++i) {
        if (c.dropped[i])
            fmt::print("    {:<24}{:>8}\n", name_of(static_cast<Dropped>(i)), c.dropped[i]);
    }
    if (r.spool) {
        fmt::print(
            "  spool             {:>12}   on disk ({} bytes); {} spooled after a failed delivery, "
            "{} replayed\n",
            r.spool->records, r.spool->bytes, r.delivery.spooled_after_failure,
            r.delivery.replayed_from_spool);
    }
    fmt::print("  delivered         {:>12}   failed {}  undelivered {}\n", r.delivery.delivered,
               r.delivery.failed, r.undelivered);
    fmt::print("  accounting        {}\n",
               c.balanced() ? "balanced (every packet counted once)" : "NOT BALANCED");
}

}  // namespace

std::string observer_hostname(const config::Config &cfg) {
    if (!cfg.observer.name.empty()) return cfg.observer.name;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

drivers::BackendConfig backend_config(const config::Config &cfg) {
    drivers::BackendConfig b;
    bool ok = false;
    b.kind = drivers::parse_backend_kind(cfg.offload.backend, ok);
    b.xclbin = cfg.offload.xclbin;
    b.device = drivers::parse_xrt_device(cfg.offload.device, ok);
    b.rfc3164_utc_offset_s = cfg.syslog.rfc3164_utc_offset_s;
    b.template_timeout_ns = int64_t{cfg.flows.template_timeout_s} * 1000000000;
    b.engines = cfg.offload.engines;
    b.ring_slots = cfg.offload.ring_slots;
    b.run_timeout_ms = cfg.offload.run_timeout_ms;
    return b;
}

GatewayResult run_gateway(const config::Config &cfg, const GatewayOptions &opts,
                          std::atomic<bool> &stop) {
    // Capabilities and hugepages first, each missing one named with its fix: DPDK would only say
    // that a port was not probed.
    const std::vector<std::string> lacking =
        dataplane::privilege_problems(eal_settings(cfg.dataplane));
    if (!lacking.empty()) throw std::runtime_error(fmt::format("{}", fmt::join(lacking, "\n")));
    // Rules next: a bad rule stops the start, before any port is touched.
    sift::RulesetSource rules(sift::Ruleset::load(cfg));
    spdlog::info("sift: {}", rules.current()->summary());
    // The broker and producer come before the EAL: threads made after rte_eal_init inherit
    // the main lcore's CPU pin.
    std::optional<kafka::EmbeddedBroker> embedded;
    std::string bootstrap = cfg.kafka.brokers;
    if (bootstrap == "embedded") {
        embedded.emplace(1);
        embedded->create_topic(cfg.kafka.syslog_topic,
                               static_cast<int>(cfg.kafka.embedded_partitions));
        embedded->create_topic(cfg.kafka.flows_topic,
                               static_cast<int>(cfg.kafka.embedded_partitions));
        if (cfg.flows.template_sharing.enabled)
            embedded->create_topic(cfg.flows.template_sharing.topic, 1);
        for (const std::string &topic : rules.current()->route_topics()) {
            embedded->create_topic(topic, static_cast<int>(cfg.kafka.embedded_partitions));
        }
        bootstrap = embedded->bootstrap();
        spdlog::info("embedded broker (librdkafka mock cluster) at {}", bootstrap);
    }
    kafka::ProducerConfig pc;
    pc.bootstrap = bootstrap;
    pc.properties = cfg.kafka.properties;
    pc.on_queue_full = cfg.kafka.on_queue_full == "spool" ? kafka::QueueFullPolicy::kSpool
                                                          : kafka::QueueFullPolicy::kDrop;
    if (!cfg.kafka.spool_dir.empty()) {
        pc.spool = kafka::SpoolConfig{cfg.kafka.spool_dir, cfg.kafka.spool_max_bytes,
                                      cfg.kafka.spool_segment_bytes,
                                      kafka::parse_fsync_policy(cfg.kafka.spool_fsync)};
    }
    kafka::Producer producer(pc);
    // Like the producer, before the EAL; it reads what other gateways shared before this start.
    std::optional<flow::TemplateSharing> sharing;
    if (cfg.flows.template_sharing.enabled) {
        const config::FlowTemplateSharing &ts = cfg.flows.template_sharing;
        sharing.emplace(flow::TemplateSharingSettings{
            bootstrap, cfg.kafka.properties, ts.topic, ts.max_templates, ts.startup_wait_ms,
            static_cast<uint32_t>(cfg.dataplane.lcores.size()), !embedded.has_value(),
            int64_t{cfg.flows.template_timeout_s} * 1000000000 / 2});
    }

    GatewayResult result;
    RuleTable rule_counters;
    std::optional<sift::Reloader> reloader;
    if (opts.reload_requested && !opts.config_path.empty()) {
        reloader.emplace(opts.config_path, cfg, *opts.reload_requested, rules);
    }
    // Made before the EAL, as the producer: the endpoint's threads must not share an lcore's pin.
    std::vector<std::unique_ptr<LcoreSnapshot>> snapshots;
    for (size_t l = 0; l < cfg.dataplane.lcores.size(); ++l)
        snapshots.push_back(
            std::make_unique<LcoreSnapshot>(std::chrono::milliseconds(cfg.metrics.snapshot_ms)));
    MetricsService metrics(snapshots, producer, cfg.metrics.listen, cfg.metrics.log_interval_s,
                           cfg.metrics.top_sources);
    {
        const dataplane::EalSettings eal_cfg = eal_settings(cfg.dataplane);
        dataplane::Eal eal(eal_cfg);
        const std::vector<dataplane::RxQueue> queues = eal.start_ports(eal_cfg);
        // The endpoint reads the NICs' counters only while the EAL is up, also if this unwinds.
        metrics.set_port_stats([&eal] { return eal.port_stats(); });
        const std::unique_ptr<MetricsService, void (*)(MetricsService *)> ports_gone(
            &metrics, [](MetricsService *m) { m->set_port_stats(nullptr); });

        std::vector<std::unique_ptr<BatchHandler>> handlers;
        std::vector<std::unique_ptr<dataplane::LcoreContext>> contexts;
        const size_t n_lcores = cfg.dataplane.lcores.size();
        std::vector<Counters> host_counters(n_lcores);  // per lcore, beside its RX loop's own
        for (size_t l = 0; l < n_lcores; ++l) {
            std::vector<dataplane::RxQueue> mine;
            for (size_t q = l; q < queues.size(); q += n_lcores) mine.push_back(queues[q]);
            std::string why;
            drivers::BackendConfig backend_cfg = backend_config(cfg);
            backend_cfg.lcore_index = static_cast<uint32_t>(l);
            auto backend = drivers::open_backend(backend_cfg, why);
            if (!backend)
                throw std::runtime_error("offload backend " + cfg.offload.backend + ": " + why);
            handlers.push_back(std::make_unique<BatchHandler>(
                std::move(backend), producer, cfg, observer_hostname(cfg), static_cast<uint32_t>(l),
                rules, sharing ? &*sharing : nullptr));
            BatchHandler *handler = handlers.back().get();
            Counters *counters = &host_counters[l];
            LcoreSnapshot *snapshot = snapshots[l].get();
            contexts.push_back(std::make_unique<dataplane::LcoreContext>(
                rx_settings(cfg), std::move(mine),
                [handler, counters, snapshot, &contexts,
                 l](const dataplane::IngestBatchBuilder &b) {
                    handler->handle(b, *counters);
                    const dataplane::LcoreContext &ctx = *contexts[l];
                    snapshot->publish_if_due(*counters, ctx.counters, [&](LcoreBreakdown &out) {
                        fill_breakdown(*handler, ctx, out);
                    });
                },
                stop));
            const dataplane::LcoreContext *ctx = contexts.back().get();
            contexts.back()->idle = [handler, counters, snapshot, ctx] {
                handler->idle(*counters);
                snapshot->publish_if_due(*counters, ctx->counters, [&](LcoreBreakdown &out) {
                    fill_breakdown(*handler, *ctx, out);
                });
            };
            contexts.back()->stop_after_rx = opts.stop_after_rx;
            contexts.back()->idle_stop_ms = opts.idle_stop_ms;
        }
        spdlog::info("{} lcore(s), {} RX queue(s), offload backend {}", n_lcores, queues.size(),
                     handlers.front()->backend_name());

        // Worker lcores first; the main lcore (the first listed) runs the first context itself.
        for (size_t l = 1; l < n_lcores; ++l) {
            const int rc = rte_eal_remote_launch(dataplane::lcore_main, contexts[l].get(),
                                                 cfg.dataplane.lcores[l]);
            if (rc !=
                0) {  // the loops already started use the contexts: stop them before unwinding
                stop = true;
                rte_eal_mp_wait_lcore();
                throw std::runtime_error(
                    fmt::format("cannot launch lcore {}", cfg.dataplane.lcores[l]));
            }
        }
        dataplane::lcore_main(contexts[0].get());
        stop = true;  // the main lcore is done (signal or end of replay): stop the others too
        rte_eal_mp_wait_lcore();
        if (sharing) sharing->stop();  // what is still in the inboxes is counted now
        for (size_t l = 0; l < n_lcores; ++l) {
            handlers[l]->finish(host_counters[l]);
            result.counters += host_counters[l];
            result.counters.add_rx(contexts[l]->counters);
            snapshots[l]->publish(  // the exit figures
                host_counters[l], contexts[l]->counters,
                [&](LcoreBreakdown &out) { fill_breakdown(*handlers[l], *contexts[l], out); });
        }
        if (sharing) result.counters.flow.sharing += sharing->counters();
        result.port = eal.port_stats();
        rule_counters = sum_rule_counters(handlers, *rules.current());
    }
    if (reloader) {
        result.reloads = reloader->reloads();
        result.reloads_failed = reloader->failures();
        reloader.reset();
    }

    // One deadline covers both: replaying the spool and flushing the producer. What is left after
    // it goes to the spool, if there is one.
    producer.drain(cfg.kafka.flush_timeout_ms);
    result.undelivered = producer.shutdown(0);
    result.delivery = producer.delivery();
    result.spool = producer.spool_stats();
    print_summary(result);
    print_sift(result, rule_counters);
    if (!opts.stats_json_path.empty()) {
        std::ofstream out(opts.stats_json_path);
        out << counters_to_json(result.counters, result.delivery, result.port,
                                result.spool ? &*result.spool : nullptr, peak_rss_bytes(),
                                sift_json(result, rule_counters))
            << "\n";
        if (!out) throw std::runtime_error("cannot write " + opts.stats_json_path);
    }
    if (opts.show_sample > 0) {
        const std::pair<const std::string &, uint64_t> topics[] = {
            {cfg.kafka.syslog_topic, result.counters.produced},
            {cfg.kafka.flows_topic, result.counters.flow.produced + result.counters.sflow.produced +
                                        result.counters.flow.aggregate.produced},
            {cfg.sift.alerts_topic, result.counters.routed}};
        for (const auto &[topic, produced] : topics) {
            if (produced == 0) continue;
            const auto sample = kafka::read_sample(bootstrap, topic, opts.show_sample, 5000);
            fmt::print("\n{} event(s) read back from topic {} at {}:\n", sample.size(), topic,
                       bootstrap);
            for (const auto &e : sample) fmt::print("{}\n", e);
        }
    }
    return result;
}

}  // namespace tapsift::pipeline
