#include "cli/commands.hpp"

#include <pcap/pcap.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "config/config.hpp"
#include "kafka/embedded_broker.hpp"
#include "pipeline/gateway.hpp"
#include "pipeline/startup_checks.hpp"
#include "sift/ioc_set.hpp"
#include "sift/rule_loader.hpp"
#include "sift/ruleset.hpp"

namespace tapsift::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_stop_signal(int) {
    g_stop = true;
}

void on_reload_signal(int) {
    g_reload = true;
}

// The replay stops on a known packet count: net_pcap's end of file is silent.
uint64_t count_packets(const std::string &capture) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(capture.c_str(), err);
    if (!p) throw std::runtime_error("cannot read capture " + capture + ": " + err);
    uint64_t n = 0;
    pcap_pkthdr *h = nullptr;
    const u_char *data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) ++n;
    pcap_close(p);
    return n;
}

config::Config load(const std::string &path) {
    return path.empty() ? config::Config{} : config::load_config_file(path);
}

void apply_logging(const config::Config &cfg) {
    spdlog::set_level(spdlog::level::from_str(cfg.logging.level));
}

constexpr uint64_t kReplayIdleStopMs = 5000;

}  // namespace

void install_stop_signals() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGHUP, on_reload_signal);
}

bool stop_requested() {
    return g_stop.load();
}

int cmd_run(const std::string &config_path, const std::string &stats_json) {
    const config::Config cfg = config::load_config_file(config_path, pipeline::check_startup);
    apply_logging(cfg);
    install_stop_signals();
    pipeline::GatewayOptions opts;
    opts.stats_json_path = stats_json;
    opts.config_path = config_path;
    opts.reload_requested = &g_reload;
    const auto r = pipeline::run_gateway(cfg, opts, g_stop);
    // Events kept in the spool are not lost: the next start replays them.
    return r.counters.balanced() && r.port.total() == 0 && r.undelivered == 0 &&
                   r.delivery.failed == 0
               ? 0
               : 1;
}

int cmd_replay(const ReplayArgs &args) {
    config::Config cfg = load(args.config);
    apply_logging(cfg);
    cfg.dataplane.ports.clear();
    pipeline::GatewayOptions opts;
    for (size_t i = 0; i < args.captures.size(); ++i) {
        cfg.dataplane.ports.push_back(
            config::Port{fmt::format("net_pcap{},rx_pcap={}", i, args.captures[i]), 1});
        opts.stop_after_rx += count_packets(args.captures[i]);
    }
    cfg.dataplane.lcores.resize(1);
    cfg.metrics.listen = "off";  // a replay is over before anything would scrape it
    cfg.metrics.log_interval_s = 0;
    if (!args.brokers.empty()) cfg.kafka.brokers = args.brokers;
    if (args.emulated_card) {
        cfg.offload.backend = "xrt";
        cfg.offload.device = "emulated";
    }
    opts.idle_stop_ms = kReplayIdleStopMs;
    opts.config_path = args.config;
    opts.reload_requested = args.config.empty() ? nullptr : &g_reload;
    opts.stats_json_path = args.stats_json;
    opts.show_sample = args.show_set ? args.show : (cfg.kafka.brokers == "embedded" ? 5 : 0);
    install_stop_signals();
    spdlog::info("replaying {} ({} packets)", fmt::join(args.captures, ", "), opts.stop_after_rx);
    const auto r = pipeline::run_gateway(cfg, opts, g_stop);
    bool ok = true;
    if (r.counters.rx_packets != opts.stop_after_rx) {
        spdlog::error("received {} of the capture's {} packets (lost at the port: {})",
                      r.counters.rx_packets, opts.stop_after_rx, r.port.total());
        ok = false;
    }
    if (!r.counters.balanced()) {
        spdlog::error("accounting does not balance");
        ok = false;
    }
    if (r.undelivered > 0 || r.delivery.failed > 0) {
        spdlog::error("{} event(s) undelivered, {} failed", r.undelivered, r.delivery.failed);
        ok = false;
    }
    if (r.spool && r.spool->records > 0) {
        spdlog::error("{} event(s) remain in the spool (replayed at the next start)",
                      r.spool->records);
        ok = false;
    }
    return ok ? 0 : 1;
}

// One control command per line; the reply is "ok <command>" or "error <command>: <why>".
std::string broker_control(kafka::EmbeddedBroker &broker, const std::string &line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    std::string why;
    int a = 0, b = 0;
    std::string topic;
    if ((verb == "down" || verb == "up") && (in >> a)) {
        why = broker.set_broker_up(a, verb == "up");
    } else if (verb == "leader" && (in >> topic >> a >> b)) {
        why = broker.set_leader(topic, a, b);
    } else if (verb == "rtt" && (in >> a >> b)) {
        why = broker.set_rtt(a, b);
    } else if (verb == "produce-errors" && (in >> a >> b) && a > 0) {
        broker.push_produce_errors(a, b);
    } else {
        why =
            "usage: down ID | up ID | leader TOPIC PARTITION ID | rtt ID MS | produce-errors COUNT "
            "CODE";
    }
    return why.empty() ? "ok " + line : "error " + line + ": " + why;
}

int cmd_broker(const BrokerArgs &args) {
    install_stop_signals();
    kafka::EmbeddedBroker broker(args.brokers);
    broker.create_topic(config::defaults::kSyslogTopic, args.partitions);
    broker.create_topic(config::defaults::kFlowsTopic, args.partitions);
    if (!args.bootstrap_file.empty()) {
        // Write then rename, so a reader never sees half an address.
        const std::string tmp = args.bootstrap_file + ".tmp";
        std::ofstream(tmp) << broker.bootstrap() << "\n";
        std::rename(tmp.c_str(), args.bootstrap_file.c_str());
    }
    std::printf("%s\n", broker.bootstrap().c_str());
    std::fflush(stdout);
    if (args.control) {
        std::thread([&broker] {
            std::string line;
            while (std::getline(std::cin, line)) {
                if (line.empty()) continue;
                std::printf("%s\n", broker_control(broker, line).c_str());
                std::fflush(stdout);
            }
        }).detach();
    }
    while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
}

// Refuses whatever run would refuse before its first packet, and reports it all at once.
int cmd_check_config(const std::string &config_path) {
    std::shared_ptr<const sift::Ruleset> rules;
    const config::Config cfg = config::load_config_file(
        config_path, [&](const config::Config &c, std::vector<std::string> &problems) {
            pipeline::check_startup(c, problems);
            // Alone, a rule or indicator error is reported as run reports it; beside config
            // problems, with them.
            try {
                rules = sift::Ruleset::load(c);
            } catch (const sift::RuleError &e) {
                if (problems.empty()) throw;
                problems.push_back(fmt::format("rules: {}", e.what()));
            } catch (const sift::IocError &e) {
                if (problems.empty()) throw;
                problems.push_back(fmt::format("threat intel: {}", e.what()));
            }
        });
    std::printf("%s: ok (%zu port(s), %zu lcore(s), backend %s, brokers %s; %s)\n",
                config_path.c_str(), cfg.dataplane.ports.size(), cfg.dataplane.lcores.size(),
                cfg.offload.backend.c_str(), cfg.kafka.brokers.c_str(), rules->summary().c_str());
    return 0;
}

}  // namespace tapsift::cli
