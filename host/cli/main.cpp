#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "sift/ioc_set.hpp"
#include "sift/rule_loader.hpp"

int main(int argc, char **argv) {
    // The log (and every error) on stderr: stdout carries the counters and the events shown.
    spdlog::default_logger()->sinks().clear();
    spdlog::default_logger()->sinks().push_back(
        std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    CLI::App app{"tapsift: a security-telemetry ingestion gateway (tap ► parse ► sift ► Kafka)"};
    app.require_subcommand(1);

    std::string run_config;
    std::string run_stats_json;
    auto *run =
        app.add_subcommand("run", "Run the gateway on the configured ports until SIGINT/SIGTERM");
    run->add_option("--config", run_config, "YAML config file")
        ->required()
        ->check(CLI::ExistingFile);
    run->add_option("--stats-json", run_stats_json, "write the counters here as JSON at exit");

    tapsift::cli::ReplayArgs replay_args;
    auto *replay =
        app.add_subcommand("replay", "Feed a capture through the gateway (net_pcap vdev) and exit");
    replay->add_option("captures", replay_args.captures, "pcap file(s), one port each")
        ->required()
        ->check(CLI::ExistingFile);
    replay
        ->add_option("--config", replay_args.config,
                     "YAML config file (ports are replaced by the capture)")
        ->check(CLI::ExistingFile);
    replay->add_option("--brokers", replay_args.brokers, "HOST:PORT,... (overrides kafka.brokers)");
    replay->add_option("--stats-json", replay_args.stats_json, "write the counters here as JSON");
    replay->add_flag("--emulated-card", replay_args.emulated_card,
                     "offload through the xrt backend on tapsift's emulated card (overrides "
                     "offload.backend and offload.device)");
    auto *show = replay->add_option(
        "--show", replay_args.show,
        "print N events read back from the broker (default 5 with the embedded broker)");

    tapsift::cli::BrokerArgs broker_args;
    broker_args.partitions = static_cast<int>(tapsift::config::defaults::kEmbeddedPartitions);
    auto *broker =
        app.add_subcommand("broker", "Run the embedded Kafka-protocol broker until SIGTERM");
    broker->add_option("--bootstrap-file", broker_args.bootstrap_file,
                       "write the bootstrap address here");
    broker->add_option("--partitions", broker_args.partitions, "partitions of the tapsift topics")
        ->check(CLI::Range(1, 256));
    broker->add_option("--brokers", broker_args.brokers, "number of brokers in the cluster")
        ->check(CLI::Range(1, 16));
    broker->add_flag("--control", broker_args.control,
                     "read fault-injection commands from stdin: down ID | up ID | "
                     "leader TOPIC PARTITION ID | rtt ID MS | produce-errors COUNT CODE");

    std::string check_path;
    auto *check = app.add_subcommand("check-config", "Validate a config file");
    check->add_option("file", check_path, "YAML config file")->required();

    tapsift::cli::ExplainArgs explain_args;
    auto *explain = app.add_subcommand(
        "explain", "Show which rule decides a syslog line, and why each earlier rule does not");
    explain->add_option("--config", explain_args.config, "YAML config file")
        ->required()
        ->check(CLI::ExistingFile);
    explain->add_option("line", explain_args.line, "the syslog message, as sent ('-': read stdin)")
        ->required();
    auto *explain_source =
        explain->add_option("--source", explain_args.source, "the sender's IP address");
    auto *explain_destination = explain->add_option("--destination", explain_args.destination,
                                                    "the collector's IP address");

    app.set_version_flag("--version",
                         fmt::format("tapsift {} (git {}); offload backends: {}", TAPSIFT_VERSION,
                                     TAPSIFT_GIT_REVISION, TAPSIFT_BACKENDS));
    // CLI11 would take an unknown subcommand for a stray argument and ask for a subcommand.
    std::vector<std::string> names;
    for (const CLI::App *sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (argc > 1 && argv[1][0] != '-' &&
        std::find(names.begin(), names.end(), argv[1]) == names.end()) {
        spdlog::error("unknown subcommand '{}': use one of {} (tapsift --help)", argv[1],
                      fmt::join(names, ", "));
        return 2;
    }
    CLI11_PARSE(app, argc, argv);
    replay_args.show_set = show->count() > 0;
    explain_args.source_set = explain_source->count() > 0;
    explain_args.destination_set = explain_destination->count() > 0;

    // One line from stdin: a message with quotes or '$' needs no shell escaping.
    if (*explain && explain_args.line == "-" && !std::getline(std::cin, explain_args.line)) {
        spdlog::error("explain -: no line on stdin");
        return 2;
    }
    try {
        if (*run) return tapsift::cli::cmd_run(run_config, run_stats_json);
        if (*replay) return tapsift::cli::cmd_replay(replay_args);
        if (*broker) return tapsift::cli::cmd_broker(broker_args);
        if (*check) return tapsift::cli::cmd_check_config(check_path);
        if (*explain) return tapsift::cli::cmd_explain(explain_args);
    } catch (const tapsift::config::ConfigError &e) {
        for (const std::string &problem : e.problems()) spdlog::error("config: {}", problem);
        return 2;
    } catch (const tapsift::sift::RuleError &e) {
        spdlog::error("rules: {}", e.what());
        return 2;
    } catch (const tapsift::sift::IocError &e) {
        spdlog::error("threat intel: {}", e.what());
        return 2;
    } catch (const std::exception &e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    return 1;
}
