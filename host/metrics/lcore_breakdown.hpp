// What an lcore publishes beside its Counters: figures broken down by rule, RX queue and source,
// and how long the offload backend took per batch. Copied at most once per metrics.snapshot_ms.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/duration_histogram.hpp"
#include "metrics/top_sources.hpp"
#include "rx_counters.hpp"
#include "sift/rule_counters.hpp"

namespace tapsift {

struct QueueRx {
    std::string port;  // the device string's name (dataplane.ports)
    uint16_t queue = 0;
    dataplane::QueueRxCounters rx;
};

struct LcoreBreakdown {
    std::map<std::string, sift::RuleCounters> rules;  // by rule id, every ruleset used
    std::vector<QueueRx> queues;                      // the queues this lcore polls
    TopSources syslog_senders;                        // syslog datagrams by source address
    TopSources flow_exporters;                        // flow datagrams by source address
    DurationHistogram syslog_batch_time;              // backend submit ► collect
    DurationHistogram flow_batch_time;
};

}  // namespace tapsift
