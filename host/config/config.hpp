// The gateway's configuration: every key, its named default, and nothing about how it is parsed.
// config_loader.cpp turns a YAML file into this; check-config, run and replay all go through it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tapsift::config {

namespace defaults {
inline const std::vector<std::string> kEalArgs = {
    "--no-huge", "-m", "512", "--no-shconf", "--no-telemetry", "--log-level=*:warning"};
constexpr uint32_t kRxQueues = 1;
constexpr uint32_t kMbufsPerQueue = 8191;
constexpr uint32_t kRxBurst = 32;
constexpr uint32_t kRxDescriptors = 1024;
constexpr const char *kIdle = "adaptive";
// The longest sleep of an idle RX loop: what the first packet after a quiet spell may wait (a
// tenth of the producer's linger.ms), and what the RX ring must hold meanwhile (1024
// descriptors: 2 Mpps for 500 us). Shorter costs more idle CPU: measured on a 2-vCPU VM, a quiet
// loop used 11% of a core at 100 us and 1.8% at 1000 us (README).
constexpr uint32_t kIdleMaxSleepUs = 500;
constexpr uint16_t kSyslogPort = 514;
// NetFlow's customary 2055/2056 and 9995/9996, and IPFIX's IANA port 4739.
inline const std::vector<uint16_t> kFlowPorts = {2055, 2056, 4739, 9995, 9996};
// Syslog over TCP (RFC 6587): 514 as rsyslog and syslog-ng forward, and IANA's 601. 6514 is
// syslog over TLS (RFC 5425): a tap cannot read it, so its segments are only counted.
inline const std::vector<uint16_t> kSyslogTcpPorts = {514, 601};
inline const std::vector<uint16_t> kSyslogTlsPorts = {6514};
// Per lcore. A connection costs about 1.5 KiB (measured, README) plus what it holds: out-of-order
// bytes (at most the per-connection budget, and all connections together the total) and one
// partial message (at most max_message_bytes).
constexpr uint32_t kSyslogTcpMaxConnections = 10000;
constexpr uint32_t kSyslogTcpMaxHeldBytesPerConnection = 64u << 10;  // a 64 KiB receive window
constexpr uint64_t kSyslogTcpMaxHeldBytes = 16ull << 20;
constexpr uint32_t kSyslogTcpWindowBytes = 1u << 20;
constexpr uint32_t kSyslogTcpIdleTimeoutMs = 300000;  // senders keep quiet connections open
// sFlow's IANA port.
inline const std::vector<uint16_t> kSflowPorts = {6343};
constexpr uint32_t kMaxMessageBytes = 65535;
constexpr uint32_t kFragmentFlows = 256;
// DPDK's RTE_LIBRTE_IP_FRAG_MAX_FRAG: the reassembly table may hold this many mbufs per flow.
constexpr uint32_t kMaxFragmentsPerDatagram = 8;
constexpr uint32_t kFragmentTimeoutMs = 2000;
constexpr uint32_t kBatchRecords = 256;
constexpr uint32_t kBatchFlushUs = 200;
constexpr uint32_t kOffloadEngines = 1;
constexpr uint32_t kOffloadRingSlots = 3;  // fill, run and drain overlap
constexpr uint32_t kOffloadRunTimeoutMs = 1000;
constexpr const char *kBackend = "auto";
constexpr const char *kBrokers = "embedded";
constexpr const char *kSyslogTopic = "tapsift.syslog";
constexpr const char *kFlowsTopic = "tapsift.flows";
// Three times Cisco's default 30-minute template refresh (RFC 7011 §8.4 asks for a multiple).
constexpr uint32_t kTemplateTimeoutS = 5400;
constexpr uint32_t kTemplateSaveIntervalS = 60;
constexpr uint64_t kPendingMaxBytes = 4ull << 20;
constexpr uint64_t kPendingMaxBytesPerExporter = 256ull << 10;
constexpr uint32_t kPendingTimeoutMs = 30000;
// Aggregation mode: one-minute windows (nfacctd's sql_history 1m, Akvorado's finest resolution),
// 15 s for records that end out of order, and what an exporter's interfaces and prefixes give.
constexpr uint32_t kAggregateWindowS = 60;
constexpr uint32_t kAggregateGraceS = 15;
constexpr uint32_t kAggregateMaxKeys = 32768;  // 112-byte entries, x3 (table 2x): 10.5 MiB
inline const std::vector<std::string> kAggregateKey = {
    "exporter", "in_interface", "out_interface", "src_prefix", "dst_prefix", "protocol"};
constexpr uint32_t kAggregateIpv4PrefixLength = 24;
constexpr uint32_t kAggregateIpv6PrefixLength = 48;
// flows.template_sharing: the compacted topic templates are shared through, and how many keys a
// gateway takes from it (8 ways x 512 sets: what one engine's store can hold).
constexpr const char *kTemplateSharingTopic = "tapsift.flow-templates";
constexpr uint32_t kTemplateSharingMaxTemplates = 4096;
// At start, how long the topic may take to be read to its end before the first datagram.
constexpr uint32_t kTemplateSharingStartupWaitMs = 10000;
constexpr uint32_t kEmbeddedPartitions = 4;
constexpr uint32_t kQueueFullTimeoutMs = 1000;
constexpr uint32_t kFlushTimeoutMs = 10000;
constexpr const char *kOnQueueFull = "drop";
constexpr uint64_t kSpoolMaxBytes = 1ull << 30;
constexpr uint64_t kSpoolSegmentBytes = 8ull << 20;
constexpr const char *kSpoolFsync = "100";  // ms; docs/robustness.md has the measurement
constexpr const char *kLogLevel = "info";
// Prometheus pull endpoint of `run`: loopback only unless configured otherwise ("off" disables).
constexpr const char *kMetricsListen = "127.0.0.1:9465";
constexpr uint32_t kMetricsSnapshotMs = 1000;  // how often each lcore publishes its counters
constexpr uint32_t kMetricsLogIntervalS = 60;  // one-line summary in the log (0: none)
constexpr uint32_t kMetricsTopSources = 20;    // senders/exporters labelled; the rest are "other"
constexpr const char *kAlertsTopic = "tapsift.alerts";
constexpr const char *kDefaultAction = "keep";
constexpr uint32_t kSiftMaxRules = 4096;
constexpr uint32_t kSiftMaxLiterals = 4096;
constexpr uint32_t kSiftMaxPrefixes = 65536;
constexpr uint32_t kIocFilterBytes = 4u << 20;  // 32 bits per indicator at 1 M
constexpr uint32_t kDedupWindowMs = 0;          // off
constexpr uint32_t kDedupMaxEntries = 65536;
constexpr uint64_t kDedupMaxBytes = 64ull << 20;
}  // namespace defaults

struct Port {
    std::string device;  // a PCI address (0000:3b:00.0) or a vdev spec (net_pcap0,rx_pcap=x.pcap)
    uint32_t rx_queues = defaults::kRxQueues;
};

struct Dataplane {
    std::vector<std::string> eal_args = defaults::kEalArgs;
    std::vector<uint32_t> lcores = {0};  // one RX loop per lcore; queues are dealt round-robin
    std::vector<Port> ports;
    uint32_t mbufs_per_queue = defaults::kMbufsPerQueue;
    uint32_t rx_burst = defaults::kRxBurst;
    uint32_t rx_descriptors = defaults::kRxDescriptors;
    std::string idle = defaults::kIdle;  // adaptive | busy_poll
    uint32_t idle_max_sleep_us = defaults::kIdleMaxSleepUs;
    std::vector<uint16_t> syslog_ports = {defaults::kSyslogPort};
    std::vector<uint16_t> flow_ports = defaults::kFlowPorts;  // NetFlow v5/v9, IPFIX by version
    std::vector<uint16_t> syslog_tcp_ports = defaults::kSyslogTcpPorts;
    std::vector<uint16_t> syslog_tls_ports = defaults::kSyslogTlsPorts;  // counted as encrypted
    uint32_t syslog_tcp_max_connections = defaults::kSyslogTcpMaxConnections;
    uint32_t syslog_tcp_max_held_bytes_per_connection =
        defaults::kSyslogTcpMaxHeldBytesPerConnection;
    uint64_t syslog_tcp_max_held_bytes = defaults::kSyslogTcpMaxHeldBytes;
    uint32_t syslog_tcp_window_bytes = defaults::kSyslogTcpWindowBytes;
    uint32_t syslog_tcp_idle_timeout_ms = defaults::kSyslogTcpIdleTimeoutMs;
    std::vector<uint16_t> sflow_ports = defaults::kSflowPorts;  // sFlow v5
    uint32_t max_message_bytes = defaults::kMaxMessageBytes;
    uint32_t fragment_flows = defaults::kFragmentFlows;
    uint32_t fragment_timeout_ms = defaults::kFragmentTimeoutMs;
};

struct Offload {
    std::string backend = defaults::kBackend;  // auto | cpu | xrt
    std::string xclbin;
    std::string device = "card";  // card | emulated: what the xrt backend drives
    uint32_t batch_records = defaults::kBatchRecords;
    uint32_t batch_flush_us = defaults::kBatchFlushUs;
    uint32_t engines = defaults::kOffloadEngines;       // xrt: syslog compute units used
    uint32_t ring_slots = defaults::kOffloadRingSlots;  // xrt: batches in flight at most
    uint32_t run_timeout_ms = defaults::kOffloadRunTimeoutMs;
};

struct Syslog {
    int32_t rfc3164_utc_offset_s = 0;  // written as "+HH:MM" / "-HH:MM" / "UTC"
};

// flows.aggregate: records folded per key and window (host/flow/aggregator.hpp).
struct FlowAggregate {
    bool enabled = false;  // off: one event per record
    uint32_t window_s = defaults::kAggregateWindowS;
    uint32_t grace_s = defaults::kAggregateGraceS;
    uint32_t max_keys = defaults::kAggregateMaxKeys;         // per lcore
    std::vector<std::string> key = defaults::kAggregateKey;  // flow/aggregate_key.hpp names
    uint32_t ipv4_prefix_length = defaults::kAggregateIpv4PrefixLength;
    uint32_t ipv6_prefix_length = defaults::kAggregateIpv6PrefixLength;
};

// flows.template_sharing: templates published to and learned from a compacted Kafka topic, so
// gateways that each see part of an exporter's datagrams decode all of them
// (host/flow/template_sharing.hpp).
struct FlowTemplateSharing {
    bool enabled = false;
    std::string topic = defaults::kTemplateSharingTopic;
    uint32_t max_templates = defaults::kTemplateSharingMaxTemplates;  // keys taken from the topic
    uint32_t startup_wait_ms = defaults::kTemplateSharingStartupWaitMs;
};

struct Flows {
    uint32_t template_timeout_s = defaults::kTemplateTimeoutS;
    std::string template_dir;  // empty: templates are not saved (a restart waits for them)
    uint32_t template_save_interval_s = defaults::kTemplateSaveIntervalS;
    uint64_t pending_max_bytes = defaults::kPendingMaxBytes;  // data waiting for its template
    uint64_t pending_max_bytes_per_exporter = defaults::kPendingMaxBytesPerExporter;
    uint32_t pending_timeout_ms = defaults::kPendingTimeoutMs;
    // Exporter address (as events print it) ► 1-in-N, overriding what the exporter says.
    std::map<std::string, uint32_t> sampling_overrides;
    bool scale_sampled_counts = false;  // network.bytes/packets multiplied by the sampling rate
    FlowAggregate aggregate;
    FlowTemplateSharing template_sharing;
};

struct Kafka {
    std::string brokers = defaults::kBrokers;  // "embedded" or host:port,...
    std::string syslog_topic = defaults::kSyslogTopic;
    std::string flows_topic = defaults::kFlowsTopic;
    uint32_t embedded_partitions = defaults::kEmbeddedPartitions;
    uint32_t queue_full_timeout_ms = defaults::kQueueFullTimeoutMs;
    uint32_t flush_timeout_ms = defaults::kFlushTimeoutMs;
    std::string on_queue_full = defaults::kOnQueueFull;  // drop | spool
    std::string spool_dir;                               // empty: no spool
    uint64_t spool_max_bytes = defaults::kSpoolMaxBytes;
    uint64_t spool_segment_bytes = defaults::kSpoolSegmentBytes;
    std::string spool_fsync = defaults::kSpoolFsync;  // always | never | N (ms)
    std::map<std::string, std::string> properties;    // passed to librdkafka verbatim
};

// The kernel's table sizes (what the card's memories are sized for), checked when rules load.
struct SiftKernel {
    uint32_t max_rules = defaults::kSiftMaxRules;
    uint32_t max_literals = defaults::kSiftMaxLiterals;
    uint32_t max_prefixes = defaults::kSiftMaxPrefixes;
    uint32_t ioc_filter_bytes = defaults::kIocFilterBytes;  // a power of two
};

struct Dedup {
    uint32_t window_ms = defaults::kDedupWindowMs;  // 0: no dedup
    uint32_t max_entries = defaults::kDedupMaxEntries;
    uint64_t max_bytes = defaults::kDedupMaxBytes;
};

// Sifting: rules (inline under sift.rules, then each rule file in order), threat-intel files,
// dedup. The rules themselves are read by host/sift/rule_loader.cpp, which needs the YAML's line
// numbers: the config keeps its own text for that.
struct Sift {
    bool has_inline_rules = false;
    std::string config_text;
    std::vector<std::string> rule_files;  // relative paths are from the config file's folder
    std::vector<std::string> ioc_files;
    std::string default_action = defaults::kDefaultAction;  // keep | drop
    std::string alerts_topic = defaults::kAlertsTopic;      // route: alerts
    SiftKernel kernel;
    Dedup dedup;
};

struct Logging {
    std::string level = defaults::kLogLevel;
};

struct Metrics {
    std::string listen = defaults::kMetricsListen;  // HOST:PORT, or "off"
    uint32_t snapshot_ms = defaults::kMetricsSnapshotMs;
    uint32_t log_interval_s = defaults::kMetricsLogIntervalS;
    uint32_t top_sources = defaults::kMetricsTopSources;
};

struct Observer {
    std::string name;  // observer.hostname in events; the machine's hostname when empty
};

struct Config {
    std::string source = "<defaults>";
    std::map<std::string, int> key_lines;  // "section.key" ► its line in the file, for errors
    Dataplane dataplane;
    Offload offload;
    Syslog syslog;
    Flows flows;
    Kafka kafka;
    Sift sift;
    Logging logging;
    Observer observer;
    Metrics metrics;
};

// Every problem of a config, each formatted as "FILE:LINE: KEY: what is wrong"; what() has them
// one a line.
class ConfigError : public std::runtime_error {
  public:
    explicit ConfigError(const std::string &problem);
    explicit ConfigError(std::vector<std::string> problems);
    const std::vector<std::string> &problems() const { return problems_; }

  private:
    std::vector<std::string> problems_;
};

// "FILE:LINE: KEY: why", the line being the key's (or its section's) in cfg's file.
std::string problem(const Config &cfg, const std::string &key, const std::string &why);

// Checks beyond the file itself (devices, CPUs, librdkafka: host/pipeline/startup_checks.hpp),
// run on the parsed config so that its problems are reported with the file's, all at once.
using ExtraChecks = std::function<void(const Config &, std::vector<std::string> &problems)>;

// The keys whose value differs between two configs' files, in key order (a reload's diff).
std::vector<std::string> changed_keys(const Config &before, const Config &after);

Config load_config_file(const std::string &path, const ExtraChecks &extra = {});
Config load_config_string(const std::string &yaml, const std::string &source_name,
                          const ExtraChecks &extra = {});

}  // namespace tapsift::config
