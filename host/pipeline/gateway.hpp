// The gateway's main job, shared by `tapsift run` and `tapsift replay`: config, then set-up
// (broker, producer, EAL, ports, one context per lcore), then the lcore loops, then the drain.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"

namespace tapsift::pipeline {

struct GatewayOptions {
    uint64_t stop_after_rx = 0;  // replay: the capture's packet count
    uint64_t idle_stop_ms = 0;   // replay: give up when nothing arrives for this long
    std::string stats_json_path;
    size_t show_sample = 0;  // print this many events read back from the broker
    // SIGHUP: when set, the rules and indicator files of config_path are loaded again.
    std::string config_path;
    std::atomic<bool> *reload_requested = nullptr;
};

struct GatewayResult {
    Counters counters;
    DeliveryCounters delivery;
    uint64_t undelivered = 0;  // accepted but without a delivery report at the flush deadline
    PortCounters port;  // lost before rx_burst: not in the accounting identity, reported beside it
    std::optional<SpoolCounters> spool;
    uint64_t reloads = 0;         // SIGHUP reloads that took effect
    uint64_t reloads_failed = 0;  // kept the rules in force, and said why
};

// The offload backend the config asks for (explain opens the same one).
// observer.hostname in events: observer.name, else the machine's hostname.
std::string observer_hostname(const config::Config &cfg);
drivers::BackendConfig backend_config(const config::Config &cfg);

GatewayResult run_gateway(const config::Config &cfg, const GatewayOptions &opts,
                          std::atomic<bool> &stop);

}  // namespace tapsift::pipeline
