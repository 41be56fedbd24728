// YAML ► Config. One validated setter per key (as Suricata's runmode-dpdk.c); an unknown key,
// a wrong type or an out-of-range value is a ConfigError naming the file, line and key.
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "config.hpp"
#include "flow/aggregate_key.hpp"

namespace tapsift::config {
namespace {

struct Ctx {
    const std::string &source;
    const std::string &key;
    const YAML::Node &node;

    [[noreturn]] void fail(const std::string &what) const {
        throw ConfigError(fmt::format("{}:{}: {}: {}", source, node.Mark().line + 1, key, what));
    }
};

int64_t as_int(const Ctx &c, int64_t min, int64_t max) {
    if (!c.node.IsScalar()) c.fail("expected an integer");
    int64_t v = 0;
    try {
        v = c.node.as<int64_t>();
    } catch (const YAML::Exception &) {
        c.fail(fmt::format("expected an integer, got '{}'", c.node.Scalar()));
    }
    if (v < min || v > max) c.fail(fmt::format("{} is out of range [{}, {}]", v, min, max));
    return v;
}

uint32_t as_u32(const Ctx &c, uint32_t min, uint32_t max) {
    return static_cast<uint32_t>(as_int(c, min, max));
}

std::string as_string(const Ctx &c) {
    if (!c.node.IsScalar()) c.fail("expected a string");
    return c.node.Scalar();
}

std::string as_choice(const Ctx &c, const char *const *begin, const char *const *end) {
    const std::string v = as_string(c);
    std::string all;
    for (const char *const *choice = begin; choice != end; ++choice) {
        if (v == *choice) return v;
        all += all.empty() ? *choice : fmt::format("|{}", *choice);
    }
    c.fail(fmt::format("'{}' is not one of {}", v, all));
}

std::string as_choice(const Ctx &c, std::initializer_list<const char *> choices) {
    return as_choice(c, choices.begin(), choices.end());
}

template <typename F>
void for_each_item(const Ctx &c, F &&f) {
    if (!c.node.IsSequence()) c.fail("expected a list");
    for (size_t i = 0; i < c.node.size(); ++i) {
        const std::string item_key = fmt::format("{}[{}]", c.key, i);
        const YAML::Node item = c.node[i];
        f(Ctx{c.source, item_key, item});
    }
}

bool as_bool(const Ctx &c) {
    const std::string v = as_choice(c, {"true", "false"});
    return v == "true";
}

std::vector<uint16_t> as_port_list(const Ctx &c) {
    std::vector<uint16_t> ports;
    for_each_item(
        c, [&](const Ctx &i) { ports.push_back(static_cast<uint16_t>(as_u32(i, 1, 65535))); });
    return ports;
}

// An IPv4 or IPv6 address, returned as events print it (inet_ntop's RFC 5952 text).
std::string as_address(const Ctx &c, const std::string &text) {
    unsigned char bytes[16];
    char out[INET6_ADDRSTRLEN] = {};
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        inet_ntop(AF_INET, bytes, out, sizeof out);
    } else if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        inet_ntop(AF_INET6, bytes, out, sizeof out);
    } else {
        c.fail(fmt::format("'{}' is not an IPv4 or IPv6 address", text));
    }
    return out;
}

// "UTC", "Z", "+HH:MM" or "-HH:MM".
int32_t as_utc_offset(const Ctx &c) {
    const std::string v = as_string(c);
    if (v == "UTC" || v == "Z") return 0;
    int hh = 0, mm = 0;
    char sign = 0;
    if (v.size() != 6 || std::sscanf(v.c_str(), "%c%2d:%2d", &sign, &hh, &mm) != 3 ||
        (sign != '+' && sign != '-') || hh > 23 || mm > 59) {
        c.fail(fmt::format("'{}' is not a UTC offset (UTC, +HH:MM or -HH:MM)", v));
    }
    return (sign == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
}

Port as_port(const Ctx &c) {
    if (!c.node.IsMap()) c.fail("expected a map with 'device' and optional 'rx_queues'");
    Port p;
    bool has_device = false;
    for (const auto &kv : c.node) {
        const std::string k = kv.first.Scalar();
        const std::string sub_key = fmt::format("{}.{}", c.key, k);
        const YAML::Node v = kv.second;
        const Ctx sub{c.source, sub_key, v};
        if (k == "device") {
            p.device = as_string(sub);
            has_device = !p.device.empty();
        } else if (k == "rx_queues") {
            p.rx_queues = as_u32(sub, 1, 64);
        } else {
            Ctx{c.source, sub_key, kv.first}.fail("unknown key");
        }
    }
    if (!has_device) c.fail("a port needs a 'device'");
    return p;
}

using Setter = std::function<void(const Ctx &, Config &)>;

const std::map<std::string, Setter> &setters() {
    static const std::map<std::string, Setter> table = {
        {"dataplane.eal_args",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.eal_args.clear();
             for_each_item(c,
                           [&](const Ctx &i) { cfg.dataplane.eal_args.push_back(as_string(i)); });
         }},
        {"dataplane.lcores",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.lcores.clear();
             for_each_item(
                 c, [&](const Ctx &i) { cfg.dataplane.lcores.push_back(as_u32(i, 0, 1023)); });
             if (cfg.dataplane.lcores.empty()) c.fail("at least one lcore is needed");
             auto sorted = cfg.dataplane.lcores;
             std::sort(sorted.begin(), sorted.end());
             if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
                 c.fail("an lcore is listed twice");
         }},
        {"dataplane.ports",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.ports.clear();
             for_each_item(c, [&](const Ctx &i) {
                 cfg.dataplane.ports.push_back(as_port(i));
                 // Device strings are checked against DPDK later: keep their lines for that.
                 cfg.key_lines[i.key + ".device"] = i.node["device"].Mark().line + 1;
             });
         }},
        {"dataplane.mbufs_per_queue",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.mbufs_per_queue = as_u32(c, 1023, 1u << 22);
         }},
        {"dataplane.rx_burst",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.rx_burst = as_u32(c, 1, 512); }},
        {"dataplane.rx_descriptors",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.rx_descriptors = as_u32(c, 64, 32768); }},
        {"dataplane.idle",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.idle = as_choice(c, {"adaptive", "busy_poll"});
         }},
        {"dataplane.idle_max_sleep_us",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.idle_max_sleep_us = as_u32(c, 1, 10000); }},
        {"dataplane.syslog_ports",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.syslog_ports = as_port_list(c); }},
        {"dataplane.flow_ports",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.flow_ports = as_port_list(c); }},
        {"dataplane.syslog_tcp_ports",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.syslog_tcp_ports = as_port_list(c); }},
        {"dataplane.syslog_tls_ports",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.syslog_tls_ports = as_port_list(c); }},
        {"dataplane.syslog_tcp_max_connections",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.syslog_tcp_max_connections = as_u32(c, 1, 1u << 20);
         }},
        {"dataplane.syslog_tcp_max_held_bytes_per_connection",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.syslog_tcp_max_held_bytes_per_connection = as_u32(c, 0, 1u << 24);
         }},
        {"dataplane.syslog_tcp_max_held_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.syslog_tcp_max_held_bytes =
                 static_cast<uint64_t>(as_int(c, 0, int64_t{1} << 32));
         }},
        {"dataplane.syslog_tcp_window_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.syslog_tcp_window_bytes = as_u32(c, 1024, 1u << 30);
         }},
        {"dataplane.syslog_tcp_idle_timeout_ms",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.syslog_tcp_idle_timeout_ms = as_u32(c, 1000, 86400000);
         }},
        {"dataplane.sflow_ports",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.sflow_ports = as_port_list(c); }},
        {"dataplane.max_message_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.max_message_bytes = as_u32(c, 480, 65535);
         }},
        {"dataplane.fragment_flows",
         [](const Ctx &c, Config &cfg) { cfg.dataplane.fragment_flows = as_u32(c, 16, 1u << 20); }},
        {"dataplane.fragment_timeout_ms",
         [](const Ctx &c, Config &cfg) {
             cfg.dataplane.fragment_timeout_ms = as_u32(c, 1, 60000);
         }},
        {"offload.backend",
         [](const Ctx &c, Config &cfg) {
             cfg.offload.backend = as_choice(c, {"auto", "cpu", "xrt"});
         }},
        {"offload.xclbin", [](const Ctx &c, Config &cfg) { cfg.offload.xclbin = as_string(c); }},
        {"offload.device",
         [](const Ctx &c, Config &cfg) {
             cfg.offload.device = as_choice(c, {"card", "emulated"});
         }},
        {"offload.batch_records",
         [](const Ctx &c, Config &cfg) { cfg.offload.batch_records = as_u32(c, 1, 256); }},
        {"offload.batch_flush_us",
         [](const Ctx &c, Config &cfg) { cfg.offload.batch_flush_us = as_u32(c, 1, 1000000); }},
        {"offload.engines",
         [](const Ctx &c, Config &cfg) { cfg.offload.engines = as_u32(c, 1, 64); }},
        {"offload.ring_slots",
         [](const Ctx &c, Config &cfg) { cfg.offload.ring_slots = as_u32(c, 1, 64); }},
        {"offload.run_timeout_ms",
         [](const Ctx &c, Config &cfg) { cfg.offload.run_timeout_ms = as_u32(c, 1, 600000); }},
        {"syslog.rfc3164_timezone",
         [](const Ctx &c, Config &cfg) { cfg.syslog.rfc3164_utc_offset_s = as_utc_offset(c); }},
        {"kafka.brokers",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.brokers = as_string(c);
             if (cfg.kafka.brokers.empty()) c.fail("empty; use 'embedded' or host:port,...");
         }},
        {"kafka.topics.syslog",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.syslog_topic = as_string(c);
             if (cfg.kafka.syslog_topic.empty()) c.fail("a topic name cannot be empty");
         }},
        {"kafka.topics.flows",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.flows_topic = as_string(c);
             if (cfg.kafka.flows_topic.empty()) c.fail("a topic name cannot be empty");
         }},
        {"flows.template_timeout_s",
         [](const Ctx &c, Config &cfg) { cfg.flows.template_timeout_s = as_u32(c, 60, 604800); }},
        {"flows.template_dir",
         [](const Ctx &c, Config &cfg) { cfg.flows.template_dir = as_string(c); }},
        {"flows.template_save_interval_s",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.template_save_interval_s = as_u32(c, 1, 86400);
         }},
        {"flows.pending_max_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.pending_max_bytes = static_cast<uint64_t>(as_int(c, 0, int64_t{1} << 30));
         }},
        {"flows.pending_max_bytes_per_exporter",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.pending_max_bytes_per_exporter =
                 static_cast<uint64_t>(as_int(c, 0, int64_t{1} << 30));
         }},
        {"flows.pending_timeout_ms",
         [](const Ctx &c, Config &cfg) { cfg.flows.pending_timeout_ms = as_u32(c, 1, 3600000); }},
        {"flows.sampling_overrides",
         [](const Ctx &c, Config &cfg) {
             if (!c.node.IsMap()) c.fail("expected a map of exporter address: 1-in-N rate");
             cfg.flows.sampling_overrides.clear();
             for (const auto &kv : c.node) {
                 const Ctx item{c.source, c.key + "." + kv.first.Scalar(), kv.second};
                 cfg.flows.sampling_overrides[as_address(item, kv.first.Scalar())] =
                     as_u32(item, 1, 1u << 31);
             }
         }},
        {"flows.scale_sampled_counts",
         [](const Ctx &c, Config &cfg) { cfg.flows.scale_sampled_counts = as_bool(c); }},
        {"flows.aggregate.enabled",
         [](const Ctx &c, Config &cfg) { cfg.flows.aggregate.enabled = as_bool(c); }},
        {"flows.aggregate.window_s",
         [](const Ctx &c, Config &cfg) { cfg.flows.aggregate.window_s = as_u32(c, 1, 86400); }},
        {"flows.aggregate.grace_s",
         [](const Ctx &c, Config &cfg) { cfg.flows.aggregate.grace_s = as_u32(c, 0, 3600); }},
        {"flows.aggregate.max_keys",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.aggregate.max_keys = as_u32(c, 1, 1u << 22);
         }},
        {"flows.aggregate.key",
         [](const Ctx &c, Config &cfg) {
             std::vector<std::string> key;
             for_each_item(c, [&](const Ctx &i) {
                 const std::string name = as_choice(i, std::begin(flow::kAggregateFieldNames),
                                                    std::end(flow::kAggregateFieldNames));
                 if (std::find(key.begin(), key.end(), name) != key.end())
                     i.fail(fmt::format("'{}' is listed twice", name));
                 key.push_back(name);
             });
             cfg.flows.aggregate.key = key;
         }},
        {"flows.aggregate.ipv4_prefix_length",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.aggregate.ipv4_prefix_length = as_u32(c, 0, 32);
         }},
        {"flows.aggregate.ipv6_prefix_length",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.aggregate.ipv6_prefix_length = as_u32(c, 0, 128);
         }},
        {"flows.template_sharing.enabled",
         [](const Ctx &c, Config &cfg) { cfg.flows.template_sharing.enabled = as_bool(c); }},
        {"flows.template_sharing.topic",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.template_sharing.topic = as_string(c);
             if (cfg.flows.template_sharing.topic.empty()) c.fail("a topic name cannot be empty");
         }},
        {"flows.template_sharing.max_templates",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.template_sharing.max_templates = as_u32(c, 1, 1u << 20);
         }},
        {"flows.template_sharing.startup_wait_ms",
         [](const Ctx &c, Config &cfg) {
             cfg.flows.template_sharing.startup_wait_ms = as_u32(c, 0, 600000);
         }},
        {"kafka.embedded_partitions",
         [](const Ctx &c, Config &cfg) { cfg.kafka.embedded_partitions = as_u32(c, 1, 256); }},
        {"kafka.queue_full_timeout_ms",
         [](const Ctx &c, Config &cfg) { cfg.kafka.queue_full_timeout_ms = as_u32(c, 0, 600000); }},
        {"kafka.flush_timeout_ms",
         [](const Ctx &c, Config &cfg) { cfg.kafka.flush_timeout_ms = as_u32(c, 0, 600000); }},
        {"kafka.on_queue_full",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.on_queue_full = as_choice(c, {"drop", "spool"});
         }},
        {"kafka.spool.dir", [](const Ctx &c, Config &cfg) { cfg.kafka.spool_dir = as_string(c); }},
        {"kafka.spool.max_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.spool_max_bytes =
                 static_cast<uint64_t>(as_int(c, 1 << 20, int64_t{1} << 50));
         }},
        {"kafka.spool.segment_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.kafka.spool_segment_bytes =
                 static_cast<uint64_t>(as_int(c, 1 << 16, int64_t{1} << 34));
         }},
        {"kafka.spool.fsync",
         [](const Ctx &c, Config &cfg) {
             const std::string v = as_string(c);
             if (v != "always" && v != "never" &&
                 (v.empty() || v.find_first_not_of("0123456789") != std::string::npos ||
                  v.size() > 5 || std::stoul(v) < 1 || std::stoul(v) > 60000))
                 c.fail(fmt::format("expected always, never or an interval in ms (1..60000), got '{}'", v));
             cfg.kafka.spool_fsync = v;
         }},
        {"kafka.properties",
         [](const Ctx &c, Config &cfg) {
             if (!c.node.IsMap()) c.fail("expected a map of librdkafka properties");
             for (const auto &kv : c.node) {
                 const std::string k = kv.first.Scalar();
                 const YAML::Node v = kv.second;
                 cfg.kafka.properties[k] = as_string(Ctx{c.source, c.key + "." + k, v});
                 cfg.key_lines[c.key + "." + k] = kv.first.Mark().line + 1;  // for librdkafka's say
             }
         }},
        {"sift.rules",
         [](const Ctx &c, Config &cfg) {
             // Read by the rule loader, which reports each rule's own errors.
             if (!c.node.IsSequence()) c.fail("expected a list of rules");
             cfg.sift.has_inline_rules = true;
         }},
        {"sift.rule_files",
         [](const Ctx &c, Config &cfg) {
             cfg.sift.rule_files.clear();
             for_each_item(c, [&](const Ctx &i) { cfg.sift.rule_files.push_back(as_string(i)); });
         }},
        {"sift.ioc_files",
         [](const Ctx &c, Config &cfg) {
             cfg.sift.ioc_files.clear();
             for_each_item(c, [&](const Ctx &i) { cfg.sift.ioc_files.push_back(as_string(i)); });
         }},
        {"sift.default_action",
         [](const Ctx &c, Config &cfg) { cfg.sift.default_action = as_choice(c, {"keep", "drop"}); }},
        {"sift.alerts_topic",
         [](const Ctx &c, Config &cfg) {
             cfg.sift.alerts_topic = as_string(c);
             if (cfg.sift.alerts_topic.empty()) c.fail("a topic name cannot be empty");
         }},
        {"sift.kernel.max_rules",
         [](const Ctx &c, Config &cfg) { cfg.sift.kernel.max_rules = as_u32(c, 1, 16384); }},
        {"sift.kernel.max_literals",
         [](const Ctx &c, Config &cfg) { cfg.sift.kernel.max_literals = as_u32(c, 1, 8192); }},
        {"sift.kernel.max_prefixes",
         [](const Ctx &c, Config &cfg) { cfg.sift.kernel.max_prefixes = as_u32(c, 1, 1u << 20); }},
        {"sift.kernel.ioc_filter_bytes",
         [](const Ctx &c, Config &cfg) {
             const uint32_t v = as_u32(c, 64, 1u << 29);
             if (v & (v - 1)) c.fail(fmt::format("{} is not a power of two", v));
             cfg.sift.kernel.ioc_filter_bytes = v;
         }},
        {"sift.dedup.window_ms",
         [](const Ctx &c, Config &cfg) { cfg.sift.dedup.window_ms = as_u32(c, 0, 3600000); }},
        {"sift.dedup.max_entries",
         [](const Ctx &c, Config &cfg) { cfg.sift.dedup.max_entries = as_u32(c, 1, 1u << 24); }},
        {"sift.dedup.max_bytes",
         [](const Ctx &c, Config &cfg) {
             cfg.sift.dedup.max_bytes = static_cast<uint64_t>(as_int(c, 1 << 16, int64_t{1} << 36));
         }},
        {"logging.level",
         [](const Ctx &c, Config &cfg) {
             cfg.logging.level = as_choice(c, {"trace", "debug", "info", "warn", "error", "off"});
         }},
        {"observer.name", [](const Ctx &c, Config &cfg) { cfg.observer.name = as_string(c); }},
        {"metrics.listen",
         [](const Ctx &c, Config &cfg) {
             const std::string v = as_string(c);
             const size_t colon = v.rfind(':');
             if (v != "off" &&
                 (colon == std::string::npos || colon == 0 || colon + 1 == v.size() ||
                  v.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
                  v.size() - colon - 1 > 5 || std::stoul(v.substr(colon + 1)) > 65535))
                 c.fail(fmt::format("expected HOST:PORT or off, got '{}'", v));
             cfg.metrics.listen = v;
         }},
        {"metrics.snapshot_ms",
         [](const Ctx &c, Config &cfg) { cfg.metrics.snapshot_ms = as_u32(c, 10, 60000); }},
        {"metrics.log_interval_s",
         [](const Ctx &c, Config &cfg) { cfg.metrics.log_interval_s = as_u32(c, 0, 86400); }},
        {"metrics.top_sources",
         [](const Ctx &c, Config &cfg) { cfg.metrics.top_sources = as_u32(c, 1, 1000); }},
    };
    return table;
}

bool is_section(const std::string &path) {
    const std::string prefix = path + ".";
    for (const auto &entry : setters()) {
        if (entry.first.compare(0, prefix.size(), prefix) == 0) return true;
    }
    return false;
}

// Every key is tried, so one pass reports every problem; the first of each key's is kept.
void apply(const YAML::Node &map, const std::string &prefix, const std::string &source, Config &cfg,
           std::vector<std::string> &problems) {
    for (const auto &kv : map) {
        const std::string path =
            prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
        const YAML::Node value = kv.second;
        cfg.key_lines[path] = kv.first.Mark().line + 1;
        try {
            const auto setter = setters().find(path);
            if (setter != setters().end()) {
                setter->second(Ctx{source, path, value}, cfg);
            } else if (is_section(path)) {
                if (!value.IsMap()) Ctx{source, path, value}.fail("expected a map");
                apply(value, path, source, cfg, problems);
            } else {
                Ctx{source, path, kv.first}.fail("unknown key");
            }
        } catch (const ConfigError &e) {
            problems.push_back(e.what());
        }
    }
}

// Keys that are each valid but not together.
void validate(const Config &cfg, std::vector<std::string> &problems) {
    const auto fail = [&](const std::string &key, const std::string &why) {
        problems.push_back(problem(cfg, key, why));
    };
    // The emulated card brings its own xclbin; a card needs the one built for it.
    if (cfg.offload.backend == "xrt" && cfg.offload.device == "card" &&
        cfg.offload.xclbin.empty()) {
        fail("offload.xclbin", "the xrt backend needs an xclbin");
    }
    if (cfg.offload.backend == "cpu" && cfg.offload.device == "emulated") {
        fail("offload.device", "the emulated card needs offload.backend xrt or auto");
    }
    if (cfg.kafka.on_queue_full == "spool" && cfg.kafka.spool_dir.empty()) {
        fail("kafka.on_queue_full", "spool needs kafka.spool.dir");
    }
    // Held fragments pin mbufs: the table must not be able to starve the RX queue of its pool.
    const uint64_t held =
        uint64_t{cfg.dataplane.fragment_flows} * defaults::kMaxFragmentsPerDatagram;
    if (held > cfg.dataplane.mbufs_per_queue / 2) {
        fail("dataplane.fragment_flows",
             fmt::format("{} flows of up to {} fragments could hold {} mbufs, more than half of "
                         "dataplane.mbufs_per_queue ({})",
                         cfg.dataplane.fragment_flows, defaults::kMaxFragmentsPerDatagram, held,
                         cfg.dataplane.mbufs_per_queue));
    }
    if (cfg.dataplane.syslog_ports.empty()) {
        fail("dataplane.syslog_ports", "at least one port is needed");
    }
    // A port is classified by one list only: each list is checked against the ones before it.
    const std::pair<const char *, const std::vector<uint16_t> *> port_lists[] = {
        {"dataplane.syslog_ports", &cfg.dataplane.syslog_ports},
        {"dataplane.flow_ports", &cfg.dataplane.flow_ports},
        {"dataplane.sflow_ports", &cfg.dataplane.sflow_ports},
    };
    for (size_t later = 1; later < std::size(port_lists); ++later) {
        for (const uint16_t port : *port_lists[later].second) {
            for (size_t earlier = 0; earlier < later; ++earlier) {
                const auto &other = *port_lists[earlier].second;
                if (std::find(other.begin(), other.end(), port) == other.end()) continue;
                // Named at the list the file sets (the other may be a default).
                const bool later_set = cfg.key_lines.count(port_lists[later].first) > 0;
                fail(port_lists[later_set ? later : earlier].first,
                     fmt::format("port {} is also in {}", port,
                                 port_lists[later_set ? earlier : later].first));
            }
        }
    }
    // TCP ports: a UDP list may name the same numbers (514 is both).
    for (const uint16_t port : cfg.dataplane.syslog_tls_ports) {
        const auto &tcp = cfg.dataplane.syslog_tcp_ports;
        if (std::find(tcp.begin(), tcp.end(), port) != tcp.end()) {
            fail("dataplane.syslog_tls_ports",
                 fmt::format("port {} is also in dataplane.syslog_tcp_ports", port));
        }
    }
    const uint64_t per_connection = cfg.dataplane.syslog_tcp_max_held_bytes_per_connection;
    const uint64_t total = cfg.dataplane.syslog_tcp_max_held_bytes;
    if (per_connection > total) {  // named on the key the file sets
        const std::string per_key = "dataplane.syslog_tcp_max_held_bytes_per_connection";
        const std::string total_key = "dataplane.syslog_tcp_max_held_bytes";
        if (cfg.key_lines.count(per_key)) {
            fail(per_key, fmt::format("{} is more than {} ({})", per_connection, total_key, total));
        } else {
            fail(total_key, fmt::format("{} is less than {} ({})", total, per_key, per_connection));
        }
    }
}

void throw_if_any(const std::vector<std::string> &problems) {
    if (!problems.empty()) throw ConfigError(problems);
}

}  // namespace

std::string problem(const Config &cfg, const std::string &key, const std::string &why) {
    // The key's own line, else its closest section's, else the top of the file.
    std::string at = key;
    while (!cfg.key_lines.count(at) && at.find_first_of(".[") != std::string::npos) {
        at = at.substr(0, at.find_last_of(".["));
    }
    const auto line = cfg.key_lines.find(at);
    return fmt::format("{}:{}: {}: {}", cfg.source, line == cfg.key_lines.end() ? 1 : line->second,
                       key, why);
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(fmt::format("{}", fmt::join(problems, "\n"))),
      problems_(std::move(problems)) {}

ConfigError::ConfigError(const std::string &problem)
    : ConfigError(std::vector<std::string>{problem}) {}

namespace {

Config parse(const std::string &yaml, const std::string &source_name,
             std::vector<std::string> &problems) {
    Config cfg;
    cfg.source = source_name;
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::ParserException &e) {
        throw ConfigError(
            fmt::format("{}:{}: YAML syntax error: {}", source_name, e.mark.line + 1, e.msg));
    }
    if (root.IsNull()) return cfg;  // an empty file means all defaults
    if (!root.IsMap()) throw ConfigError(source_name + ":1: the top level must be a map");
    apply(root, "", source_name, cfg, problems);
    cfg.sift.config_text = yaml;
    return cfg;
}

// Relative paths in a config file are from the file's folder, wherever tapsift runs: rule and
// indicator files, the xclbin, the template and spool folders, and the files in device strings
// (ring:FILE, net_pcap's rx_pcap= and tx_pcap=).
void resolve_paths(Config &cfg, const std::string &dir) {
    const auto resolve = [&](std::string &f) {
        if (!f.empty() && f[0] != '/') f = dir + "/" + f;
    };
    for (auto *files : {&cfg.sift.rule_files, &cfg.sift.ioc_files}) {
        for (std::string &f : *files) resolve(f);
    }
    for (std::string *f : {&cfg.offload.xclbin, &cfg.flows.template_dir, &cfg.kafka.spool_dir}) {
        resolve(*f);
    }
    for (Port &p : cfg.dataplane.ports) {
        if (p.device.rfind("ring:", 0) == 0) {
            std::string file = p.device.substr(5);
            resolve(file);
            p.device = "ring:" + file;
            continue;
        }
        std::string out;
        std::istringstream parts(p.device);
        std::string part;
        while (std::getline(parts, part, ',')) {
            for (const char *file_key : {"rx_pcap=", "tx_pcap="}) {
                if (part.rfind(file_key, 0) != 0) continue;
                std::string file = part.substr(std::strlen(file_key));
                resolve(file);
                part = file_key + file;
            }
            out += (out.empty() ? "" : ",") + part;
        }
        p.device = out;
    }
}

}  // namespace

Config load_config_string(const std::string &yaml, const std::string &source_name,
                          const ExtraChecks &extra) {
    std::vector<std::string> problems;
    Config cfg = parse(yaml, source_name, problems);
    validate(cfg, problems);
    if (extra) extra(cfg, problems);
    throw_if_any(problems);
    return cfg;
}

namespace {

// The YAML text of a key in a config's file ("" when the key is not set).
std::string key_text(const YAML::Node &root, const std::string &key) {
    YAML::Node node = YAML::Clone(root);
    std::istringstream parts(key);
    std::string part;
    while (std::getline(parts, part, '.')) {
        if (!node.IsMap() || !node[part]) return "";
        node = node[part];
    }
    return YAML::Dump(node);
}

YAML::Node parsed_text(const Config &cfg) {
    try {
        return YAML::Load(cfg.sift.config_text);
    } catch (const YAML::Exception &) {
        return YAML::Node();
    }
}

}  // namespace

std::vector<std::string> changed_keys(const Config &before, const Config &after) {
    const YAML::Node a = parsed_text(before), b = parsed_text(after);
    std::vector<std::string> changed;
    for (const auto &entry : setters()) {
        if (key_text(a, entry.first) != key_text(b, entry.first)) changed.push_back(entry.first);
    }
    return changed;
}

// librdkafka properties whose values are credentials.
bool is_secret_property(const std::string &key) {
    return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
           key == "ssl.key.pem" || key == "sasl.oauthbearer.config";
}

Config load_config_file(const std::string &path, const ExtraChecks &extra) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path + ": cannot open the file");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> problems;
    Config cfg = parse(text.str(), path, problems);
    resolve_paths(cfg, path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/')));
    validate(cfg, problems);
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
        for (const auto &kv : cfg.kafka.properties) {
            if (!is_secret_property(kv.first)) continue;
            problems.push_back(problem(
                cfg, "kafka.properties." + kv.first,
                fmt::format("this file holds a secret but every user can read it (mode {:04o}); "
                            "run chmod o-r {}",
                            st.st_mode & 07777, path)));
        }
    }
    if (extra) extra(cfg, problems);
    throw_if_any(problems);
    return cfg;
}

}  // namespace tapsift::config
