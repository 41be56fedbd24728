#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "config/config.hpp"

namespace tapsift::config {
namespace {

std::string error_of(const std::string &yaml) {
    try {
        load_config_string(yaml, "t.yaml");
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}

TEST(Config, EmptyFileMeansDefaults) {
    const Config c = load_config_string("", "t.yaml");
    EXPECT_EQ(c.kafka.brokers, "embedded");
    EXPECT_EQ(c.kafka.syslog_topic, "tapsift.syslog");
    EXPECT_EQ(c.offload.backend, "auto");
    EXPECT_EQ(c.dataplane.syslog_ports, std::vector<uint16_t>{514});
    EXPECT_EQ(c.dataplane.sflow_ports, std::vector<uint16_t>{6343});
    EXPECT_EQ(c.dataplane.eal_args, defaults::kEalArgs);
    EXPECT_EQ(c.dataplane.idle, "adaptive");
    EXPECT_EQ(c.dataplane.idle_max_sleep_us, defaults::kIdleMaxSleepUs);
    EXPECT_EQ(c.metrics.listen, "127.0.0.1:9465");
    EXPECT_EQ(c.metrics.log_interval_s, defaults::kMetricsLogIntervalS);
    EXPECT_EQ(c.metrics.top_sources, defaults::kMetricsTopSources);
    EXPECT_FALSE(c.flows.template_sharing.enabled);  // off unless asked for
}

TEST(Config, EveryKeyIsSet) {
    const Config c = load_config_string(R"(
dataplane:
  eal_args: ["--in-memory"]
  lcores: [1, 2]
  ports:
    - device: "0000:3b:00.0"
      rx_queues: 4
    - {device: "net_pcap0,rx_pcap=x.pcap"}
  mbufs_per_queue: 4095
  rx_burst: 64
  rx_descriptors: 2048
  idle: busy_poll
  idle_max_sleep_us: 250
  syslog_ports: [514, 1514]
  flow_ports: [9996]
  sflow_ports: [6343, 16343]
  max_message_bytes: 8192
  fragment_flows: 128
  fragment_timeout_ms: 500
offload: {backend: cpu, xclbin: /lib/k.xclbin, batch_records: 64, batch_flush_us: 50}
syslog: {rfc3164_timezone: "-05:30"}
flows:
  template_timeout_s: 600
  template_dir: /var/lib/tapsift/templates
  template_save_interval_s: 30
  pending_max_bytes: 1048576
  pending_max_bytes_per_exporter: 65536
  pending_timeout_ms: 5000
  sampling_overrides: {"192.0.2.1": 1000, "2001:DB8::1": 64}
  scale_sampled_counts: true
  template_sharing: {enabled: true, topic: siem.templates, max_templates: 512, startup_wait_ms: 0}
kafka:
  brokers: "k1:9092,k2:9092"
  topics: {syslog: siem.syslog, flows: siem.flows}
  embedded_partitions: 8
  queue_full_timeout_ms: 10
  flush_timeout_ms: 2000
  on_queue_full: spool
  spool: {dir: /var/spool/tapsift, max_bytes: 2097152, segment_bytes: 65536, fsync: always}
  properties: {compression.codec: zstd, linger.ms: "20"}
logging: {level: debug}
observer: {name: tap-7}
metrics: {listen: "0.0.0.0:9100", snapshot_ms: 250, log_interval_s: 0, top_sources: 50}
)",
                                        "t.yaml");
    EXPECT_EQ(c.dataplane.eal_args, std::vector<std::string>{"--in-memory"});
    EXPECT_EQ(c.dataplane.lcores, (std::vector<uint32_t>{1, 2}));
    ASSERT_EQ(c.dataplane.ports.size(), 2u);
    EXPECT_EQ(c.dataplane.ports[0].device, "0000:3b:00.0");
    EXPECT_EQ(c.dataplane.ports[0].rx_queues, 4u);
    EXPECT_EQ(c.dataplane.ports[1].rx_queues, 1u);
    EXPECT_EQ(c.dataplane.mbufs_per_queue, 4095u);
    EXPECT_EQ(c.dataplane.rx_burst, 64u);
    EXPECT_EQ(c.dataplane.rx_descriptors, 2048u);
    EXPECT_EQ(c.dataplane.idle, "busy_poll");
    EXPECT_EQ(c.dataplane.idle_max_sleep_us, 250u);
    EXPECT_EQ(c.dataplane.syslog_ports, (std::vector<uint16_t>{514, 1514}));
    EXPECT_EQ(c.dataplane.flow_ports, std::vector<uint16_t>{9996});
    EXPECT_EQ(c.dataplane.sflow_ports, (std::vector<uint16_t>{6343, 16343}));
    EXPECT_EQ(c.flows.template_timeout_s, 600u);
    EXPECT_EQ(c.flows.template_dir, "/var/lib/tapsift/templates");
    EXPECT_EQ(c.flows.template_save_interval_s, 30u);
    EXPECT_EQ(c.flows.pending_max_bytes, 1048576u);
    EXPECT_EQ(c.flows.pending_max_bytes_per_exporter, 65536u);
    EXPECT_EQ(c.flows.pending_timeout_ms, 5000u);
    // Addresses are kept as events print them, so "2001:DB8::1" matches "2001:db8::1".
    EXPECT_EQ(c.flows.sampling_overrides,
              (std::map<std::string, uint32_t>{{"192.0.2.1", 1000}, {"2001:db8::1", 64}}));
    EXPECT_TRUE(c.flows.scale_sampled_counts);
    EXPECT_TRUE(c.flows.template_sharing.enabled);
    EXPECT_EQ(c.flows.template_sharing.topic, "siem.templates");
    EXPECT_EQ(c.flows.template_sharing.max_templates, 512u);
    EXPECT_EQ(c.flows.template_sharing.startup_wait_ms, 0u);
    EXPECT_EQ(c.kafka.flows_topic, "siem.flows");
    EXPECT_EQ(c.dataplane.max_message_bytes, 8192u);
    EXPECT_EQ(c.dataplane.fragment_flows, 128u);
    EXPECT_EQ(c.dataplane.fragment_timeout_ms, 500u);
    EXPECT_EQ(c.offload.backend, "cpu");
    EXPECT_EQ(c.offload.xclbin, "/lib/k.xclbin");
    EXPECT_EQ(c.offload.batch_records, 64u);
    EXPECT_EQ(c.offload.batch_flush_us, 50u);
    EXPECT_EQ(c.syslog.rfc3164_utc_offset_s, -(5 * 3600 + 30 * 60));
    EXPECT_EQ(c.kafka.brokers, "k1:9092,k2:9092");
    EXPECT_EQ(c.kafka.syslog_topic, "siem.syslog");
    EXPECT_EQ(c.kafka.embedded_partitions, 8u);
    EXPECT_EQ(c.kafka.queue_full_timeout_ms, 10u);
    EXPECT_EQ(c.kafka.flush_timeout_ms, 2000u);
    EXPECT_EQ(c.kafka.on_queue_full, "spool");
    EXPECT_EQ(c.kafka.spool_dir, "/var/spool/tapsift");
    EXPECT_EQ(c.kafka.spool_max_bytes, 2097152u);
    EXPECT_EQ(c.kafka.spool_segment_bytes, 65536u);
    EXPECT_EQ(c.kafka.spool_fsync, "always");
    EXPECT_EQ(c.kafka.properties.at("compression.codec"), "zstd");
    EXPECT_EQ(c.kafka.properties.at("linger.ms"), "20");
    EXPECT_EQ(c.logging.level, "debug");
    EXPECT_EQ(c.observer.name, "tap-7");
    EXPECT_EQ(c.metrics.listen, "0.0.0.0:9100");
    EXPECT_EQ(c.metrics.snapshot_ms, 250u);
    EXPECT_EQ(c.metrics.log_interval_s, 0u);
    EXPECT_EQ(c.metrics.top_sources, 50u);
}

TEST(Config, OffloadDeviceSelectsTheEmulatedCardWhichNeedsNoXclbin) {
    EXPECT_EQ(load_config_string("", "t.yaml").offload.device, "card");
    const Config c = load_config_string("offload: {backend: xrt, device: emulated}\n", "t.yaml");
    EXPECT_EQ(c.offload.backend, "xrt");
    EXPECT_EQ(c.offload.device, "emulated");
    EXPECT_TRUE(c.offload.xclbin.empty());
}

TEST(Config, ErrorsNameFileLineAndKey) {
    EXPECT_EQ(error_of("dataplane:\n  rx_burts: 32\n"),
              "t.yaml:2: dataplane.rx_burts: unknown key");
    EXPECT_EQ(error_of("kafka:\n  brokers: embedded\nbogus: 1\n"), "t.yaml:3: bogus: unknown key");
    EXPECT_EQ(error_of("dataplane:\n  rx_burst: lots\n"),
              "t.yaml:2: dataplane.rx_burst: expected an integer, got 'lots'");
    EXPECT_EQ(error_of("dataplane:\n  rx_burst: 0\n"),
              "t.yaml:2: dataplane.rx_burst: 0 is out of range [1, 512]");
    EXPECT_EQ(error_of("dataplane:\n  idle: sleep\n"),
              "t.yaml:2: dataplane.idle: 'sleep' is not one of adaptive|busy_poll");
    EXPECT_EQ(error_of("dataplane:\n  idle_max_sleep_us: 0\n"),
              "t.yaml:2: dataplane.idle_max_sleep_us: 0 is out of range [1, 10000]");
    EXPECT_EQ(error_of("offload:\n  backend: gpu\n"),
              "t.yaml:2: offload.backend: 'gpu' is not one of auto|cpu|xrt");
    EXPECT_EQ(
        error_of("syslog:\n  rfc3164_timezone: CET\n"),
        "t.yaml:2: syslog.rfc3164_timezone: 'CET' is not a UTC offset (UTC, +HH:MM or -HH:MM)");
    EXPECT_EQ(error_of("dataplane:\n  ports:\n    - device: x\n      queues: 2\n"),
              "t.yaml:4: dataplane.ports[0].queues: unknown key");
    EXPECT_EQ(error_of("dataplane:\n  ports:\n    - rx_queues: 2\n"),
              "t.yaml:3: dataplane.ports[0]: a port needs a 'device'");
    EXPECT_EQ(error_of("dataplane: 3\n"), "t.yaml:1: dataplane: expected a map");
    EXPECT_EQ(
        error_of("kafka:\n  spool: {fsync: sometimes}\n"),
        "t.yaml:2: kafka.spool.fsync: expected always, never or an interval in ms (1..60000), "
        "got 'sometimes'");
    EXPECT_EQ(error_of("kafka:\n  spool: {fsync: 0}\n"),
              "t.yaml:2: kafka.spool.fsync: expected always, never or an interval in ms "
              "(1..60000), got '0'");
    EXPECT_EQ(error_of("metrics:\n  listen: 9465\n"),
              "t.yaml:2: metrics.listen: expected HOST:PORT or off, got '9465'");
    EXPECT_EQ(error_of("metrics:\n  listen: \"[::1]:99999\"\n"),
              "t.yaml:2: metrics.listen: expected HOST:PORT or off, got '[::1]:99999'");
    EXPECT_EQ(error_of("metrics:\n  top_sources: 0\n"),
              "t.yaml:2: metrics.top_sources: 0 is out of range [1, 1000]");
    EXPECT_EQ(error_of("kafka:\n  properties: [a]\n"),
              "t.yaml:2: kafka.properties: expected a map of librdkafka properties");
    EXPECT_EQ(error_of("dataplane:\n  syslog_ports: [70000]\n"),
              "t.yaml:2: dataplane.syslog_ports[0]: 70000 is out of range [1, 65535]");
    EXPECT_EQ(error_of("offload:\n  backend: xrt\n"),
              "t.yaml:1: offload.xclbin: the xrt backend needs an xclbin");
    EXPECT_EQ(error_of("offload:\n  device: fpga\n"),
              "t.yaml:2: offload.device: 'fpga' is not one of card|emulated");
    EXPECT_EQ(error_of("offload:\n  backend: cpu\n  device: emulated\n"),
              "t.yaml:3: offload.device: the emulated card needs offload.backend xrt or auto");
    EXPECT_NE(error_of("a: [\n").find("t.yaml:"), std::string::npos);
    EXPECT_EQ(error_of("dataplane:\n  lcores: [1, 2, 1]\n"),
              "t.yaml:2: dataplane.lcores: an lcore is listed twice");
    EXPECT_EQ(error_of("kafka:\n  on_queue_full: spool\n"),
              "t.yaml:2: kafka.on_queue_full: spool needs kafka.spool.dir");
    EXPECT_EQ(error_of("kafka:\n  on_queue_full: block\n"),
              "t.yaml:2: kafka.on_queue_full: 'block' is not one of drop|spool");
    EXPECT_EQ(error_of("flows:\n  sampling_overrides: {\"exporter-1\": 10}\n"),
              "t.yaml:2: flows.sampling_overrides.exporter-1: 'exporter-1' is not an IPv4 or IPv6 "
              "address");
    EXPECT_EQ(error_of("flows:\n  scale_sampled_counts: yes\n"),
              "t.yaml:2: flows.scale_sampled_counts: 'yes' is not one of true|false");
    EXPECT_EQ(error_of("dataplane:\n  flow_ports: [514]\n"),
              "t.yaml:2: dataplane.flow_ports: port 514 is also in dataplane.syslog_ports");
    EXPECT_EQ(error_of("dataplane:\n  sflow_ports: [514]\n"),
              "t.yaml:2: dataplane.sflow_ports: port 514 is also in dataplane.syslog_ports");
    EXPECT_EQ(error_of("dataplane:\n  sflow_ports: [2055]\n"),
              "t.yaml:2: dataplane.sflow_ports: port 2055 is also in dataplane.flow_ports");
    EXPECT_EQ(error_of("dataplane:\n  flow_ports: [6343]\n"),
              "t.yaml:2: dataplane.flow_ports: port 6343 is also in dataplane.sflow_ports");
    EXPECT_EQ(error_of("dataplane:\n  sflow_ports: [0]\n"),
              "t.yaml:2: dataplane.sflow_ports[0]: 0 is out of range [1, 65535]");
    EXPECT_EQ(error_of("flows:\n  template_sharing: {topic: \"\"}\n"),
              "t.yaml:2: flows.template_sharing.topic: a topic name cannot be empty");
    EXPECT_EQ(error_of("flows:\n  template_sharing: {max_templates: 0}\n"),
              "t.yaml:2: flows.template_sharing.max_templates: 0 is out of range [1, 1048576]");
    EXPECT_EQ(error_of("flows:\n  template_timeout_s: 5\n"),
              "t.yaml:2: flows.template_timeout_s: 5 is out of range [60, 604800]");
    EXPECT_EQ(error_of("dataplane:\n  fragment_flows: 1024\n"),
              "t.yaml:2: dataplane.fragment_flows: 1024 flows of up to 8 fragments could hold 8192 "
              "mbufs, more than "
              "half of dataplane.mbufs_per_queue (8191)");
}

TEST(Config, ShippedExampleLoads) {
    const Config c = load_config_file(std::string(TAPSIFT_SOURCE_DIR) + "/config/tapsift.yaml");
    EXPECT_FALSE(c.dataplane.ports.empty());
    EXPECT_EQ(c.kafka.brokers, "embedded");
}

TEST(Config, WorldReadableFileWithSecretsIsRefused) {
    const std::string path = ::testing::TempDir() + "tapsift-secret.yaml";
    {
        std::ofstream out(path);
        out << "kafka:\n  properties: {sasl.username: u, sasl.password: hunter2}\n";
    }
    chmod(path.c_str(), 0644);
    try {
        load_config_file(path);
        ADD_FAILURE() << "a world-readable file with a password was accepted";
    } catch (const ConfigError &e) {
        EXPECT_EQ(std::string(e.what()),
                  path +
                      ":2: kafka.properties.sasl.password: this file holds a secret but every "
                      "user can read it (mode 0644); run chmod o-r " +
                      path);
    }
    chmod(path.c_str(), 0640);
    EXPECT_EQ(load_config_file(path).kafka.properties.at("sasl.password"), "hunter2");
    {
        std::ofstream out(path);
        out << "kafka:\n  properties: {compression.codec: zstd}\n";
    }
    chmod(path.c_str(), 0644);
    EXPECT_NO_THROW(load_config_file(path)) << "no secret, no restriction";
    std::remove(path.c_str());
}

TEST(Config, EveryProblemIsReportedAtOnceWithItsLine) {
    try {
        load_config_string(
            "dataplane:\n  rx_burst: 0\n  bogus: 1\nkafka:\n  on_queue_full: spool\n"
            "offload: {backend: cpu, device: emulated}\n",
            "t.yaml");
        ADD_FAILURE() << "a config with four problems was accepted";
    } catch (const ConfigError &e) {
        EXPECT_EQ(
            e.problems(),
            (std::vector<std::string>{
                "t.yaml:2: dataplane.rx_burst: 0 is out of range [1, 512]",
                "t.yaml:3: dataplane.bogus: unknown key",
                "t.yaml:6: offload.device: the emulated card needs offload.backend xrt or auto",
                "t.yaml:5: kafka.on_queue_full: spool needs kafka.spool.dir"}));
    }
}

TEST(Config, RelativePathsAreFromTheConfigFilesFolder) {
    const std::string dir = ::testing::TempDir() + "tapsift-paths";
    mkdir(dir.c_str(), 0755);
    const std::string path = dir + "/t.yaml";
    {
        std::ofstream out(path);
        out << "dataplane:\n  ports:\n    - device: net_pcap0,rx_pcap=a.pcap,rx_pcap=/abs.pcap\n"
               "    - device: ring:b.pcap\n"
               "flows: {template_dir: tpl}\nkafka: {spool: {dir: spool}}\n"
               "offload: {xclbin: k.xclbin}\n";
    }
    const Config c = load_config_file(path);
    EXPECT_EQ(c.dataplane.ports[0].device,
              "net_pcap0,rx_pcap=" + dir + "/a.pcap,rx_pcap=/abs.pcap");
    EXPECT_EQ(c.dataplane.ports[1].device, "ring:" + dir + "/b.pcap");
    EXPECT_EQ(c.flows.template_dir, dir + "/tpl");
    EXPECT_EQ(c.kafka.spool_dir, dir + "/spool");
    EXPECT_EQ(c.offload.xclbin, dir + "/k.xclbin");
    std::remove(path.c_str());
}

TEST(Config, MissingFileIsAClearError) {
    EXPECT_THROW(load_config_file("/nonexistent/tapsift.yaml"), ConfigError);
}

// flows.aggregate (host/flow/aggregator)
TEST(AggregateConfig, DefaultsAreOffAndEveryKeyIsSet) {
    const Config d = load_config_string("", "t.yaml");
    EXPECT_FALSE(d.flows.aggregate.enabled);
    EXPECT_EQ(d.flows.aggregate.window_s, defaults::kAggregateWindowS);
    EXPECT_EQ(d.flows.aggregate.key, defaults::kAggregateKey);
    const Config c = load_config_string(R"(
flows:
  aggregate:
    enabled: true
    window_s: 300
    grace_s: 0
    max_keys: 1000
    key: [exporter, src_as, dst_as, tos]
    ipv4_prefix_length: 16
    ipv6_prefix_length: 64
)",
                                        "t.yaml");
    const FlowAggregate &a = c.flows.aggregate;
    EXPECT_TRUE(a.enabled);
    EXPECT_EQ(a.window_s, 300u);
    EXPECT_EQ(a.grace_s, 0u);
    EXPECT_EQ(a.max_keys, 1000u);
    EXPECT_EQ(a.key, (std::vector<std::string>{"exporter", "src_as", "dst_as", "tos"}));
    EXPECT_EQ(a.ipv4_prefix_length, 16u);
    EXPECT_EQ(a.ipv6_prefix_length, 64u);
}

TEST(AggregateConfig, BadValuesNameTheKey) {
    EXPECT_EQ(error_of("flows:\n  aggregate:\n    key: [exporter, vlan]\n"),
              "t.yaml:3: flows.aggregate.key[1]: 'vlan' is not one of exporter|observation_domain|"
              "in_interface|out_interface|src_as|dst_as|src_prefix|dst_prefix|protocol|src_port|"
              "dst_port|direction|tos");
    EXPECT_EQ(error_of("flows:\n  aggregate:\n    key: [protocol, protocol]\n"),
              "t.yaml:3: flows.aggregate.key[1]: 'protocol' is listed twice");
    EXPECT_EQ(error_of("flows:\n  aggregate:\n    ipv4_prefix_length: 33\n"),
              "t.yaml:3: flows.aggregate.ipv4_prefix_length: 33 is out of range [0, 32]");
    EXPECT_EQ(error_of("flows:\n  aggregate:\n    max_keys: 0\n"),
              "t.yaml:3: flows.aggregate.max_keys: 0 is out of range [1, 4194304]");
    EXPECT_EQ(error_of("flows:\n  aggregate:\n    window_s: 0\n"),
              "t.yaml:3: flows.aggregate.window_s: 0 is out of range [1, 86400]");
}

TEST(SyslogTcpConfig, DefaultsAndEveryKey) {
    const Dataplane d = load_config_string("", "t.yaml").dataplane;
    EXPECT_EQ(d.syslog_tcp_ports, (std::vector<uint16_t>{514, 601}));
    EXPECT_EQ(d.syslog_tls_ports, std::vector<uint16_t>{6514});
    EXPECT_EQ(d.syslog_tcp_max_connections, defaults::kSyslogTcpMaxConnections);
    EXPECT_EQ(d.syslog_tcp_max_held_bytes_per_connection,
              defaults::kSyslogTcpMaxHeldBytesPerConnection);
    EXPECT_EQ(d.syslog_tcp_max_held_bytes, defaults::kSyslogTcpMaxHeldBytes);
    EXPECT_EQ(d.syslog_tcp_window_bytes, defaults::kSyslogTcpWindowBytes);
    EXPECT_EQ(d.syslog_tcp_idle_timeout_ms, defaults::kSyslogTcpIdleTimeoutMs);

    const Dataplane s = load_config_string(R"(
dataplane:
  syslog_tcp_ports: [1514]
  syslog_tls_ports: []
  syslog_tcp_max_connections: 100
  syslog_tcp_max_held_bytes_per_connection: 4096
  syslog_tcp_max_held_bytes: 65536
  syslog_tcp_window_bytes: 131072
  syslog_tcp_idle_timeout_ms: 60000
)",
                                           "t.yaml")
                            .dataplane;
    EXPECT_EQ(s.syslog_tcp_ports, std::vector<uint16_t>{1514});
    EXPECT_TRUE(s.syslog_tls_ports.empty());
    EXPECT_EQ(s.syslog_tcp_max_connections, 100u);
    EXPECT_EQ(s.syslog_tcp_max_held_bytes_per_connection, 4096u);
    EXPECT_EQ(s.syslog_tcp_max_held_bytes, 65536u);
    EXPECT_EQ(s.syslog_tcp_window_bytes, 131072u);
    EXPECT_EQ(s.syslog_tcp_idle_timeout_ms, 60000u);
    // UDP and TCP are apart: 514 may be in both syslog_ports and syslog_tcp_ports (the defaults).
    EXPECT_EQ(error_of("dataplane:\n  syslog_ports: [601]\n"), "");
}

TEST(SyslogTcpConfig, BadValuesNameTheKey) {
    EXPECT_EQ(
        error_of("dataplane:\n  syslog_tls_ports: [601]\n"),
        "t.yaml:2: dataplane.syslog_tls_ports: port 601 is also in dataplane.syslog_tcp_ports");
    EXPECT_EQ(error_of("dataplane:\n  syslog_tcp_ports: [0]\n"),
              "t.yaml:2: dataplane.syslog_tcp_ports[0]: 0 is out of range [1, 65535]");
    EXPECT_EQ(error_of("dataplane:\n  syslog_tcp_max_connections: 0\n"),
              "t.yaml:2: dataplane.syslog_tcp_max_connections: 0 is out of range [1, 1048576]");
    EXPECT_EQ(error_of("dataplane:\n  syslog_tcp_max_held_bytes: 1024\n"),
              "t.yaml:2: dataplane.syslog_tcp_max_held_bytes: 1024 is less than "
              "dataplane.syslog_tcp_max_held_bytes_per_connection (65536)");
    EXPECT_EQ(error_of("dataplane:\n  syslog_tcp_max_held_bytes_per_connection: 8192\n"
                       "  syslog_tcp_max_held_bytes: 4096\n"),
              "t.yaml:2: dataplane.syslog_tcp_max_held_bytes_per_connection: 8192 is more "
              "than dataplane.syslog_tcp_max_held_bytes (4096)");
    EXPECT_EQ(
        error_of("dataplane:\n  syslog_tcp_window_bytes: 100\n"),
        "t.yaml:2: dataplane.syslog_tcp_window_bytes: 100 is out of range [1024, 1073741824]");
    EXPECT_EQ(
        error_of("dataplane:\n  syslog_tcp_idle_timeout_ms: 10\n"),
        "t.yaml:2: dataplane.syslog_tcp_idle_timeout_ms: 10 is out of range [1000, 86400000]");
}

}  // namespace
}  // namespace tapsift::config
