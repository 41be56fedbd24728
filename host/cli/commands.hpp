// One function per subcommand; main.cpp only wires them to CLI11.
#pragma once

#include <string>
#include <vector>

namespace tapsift::cli {

struct ReplayArgs {
    std::vector<std::string> captures;  // one net_pcap port each
    std::string config;
    std::string brokers;
    bool emulated_card = false;
    std::string stats_json;
    size_t show = 0;
    bool show_set = false;
};

int cmd_run(const std::string &config_path, const std::string &stats_json);
int cmd_replay(const ReplayArgs &args);
struct BrokerArgs {
    std::string bootstrap_file;
    int brokers = 1;
    int partitions = 4;
    bool control = false;  // read fault-injection commands from stdin
};

int cmd_broker(const BrokerArgs &args);
int cmd_check_config(const std::string &config_path);

struct ExplainArgs {
    std::string config;
    std::string line;  // a syslog message as it arrives, e.g. "<34>Oct 11 22:14:15 host app: ..."
    std::string source = "192.0.2.1";
    std::string destination = "192.0.2.254";
    bool source_set = false, destination_set = false;
};
int cmd_explain(const ExplainArgs &args);

// SIGINT/SIGTERM set this; long-running commands poll it.
void install_stop_signals();
bool stop_requested();

}  // namespace tapsift::cli
