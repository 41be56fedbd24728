#include "pipeline/dataplane_settings.hpp"

#include <rte_ip_frag.h>

namespace tapsift::pipeline {

static_assert(config::defaults::kMaxFragmentsPerDatagram == RTE_LIBRTE_IP_FRAG_MAX_FRAG,
              "the config's mbuf bound must match DPDK's fragments per datagram");

dataplane::EalSettings eal_settings(const config::Dataplane &cfg) {
    dataplane::EalSettings s;
    s.eal_args = cfg.eal_args;
    s.lcores = cfg.lcores;
    for (const config::Port &p : cfg.ports) s.ports.push_back({p.device, p.rx_queues});
    s.mbufs_per_queue = cfg.mbufs_per_queue;
    s.rx_descriptors = cfg.rx_descriptors;
    return s;
}

dataplane::RxSettings rx_settings(const config::Config &cfg) {
    dataplane::RxSettings s;
    s.syslog_ports = cfg.dataplane.syslog_ports;
    s.flow_ports = cfg.dataplane.flow_ports;
    s.syslog_tcp_ports = cfg.dataplane.syslog_tcp_ports;
    s.syslog_tls_ports = cfg.dataplane.syslog_tls_ports;
    s.tcp_max_connections = cfg.dataplane.syslog_tcp_max_connections;
    s.tcp_max_held_bytes_per_connection = cfg.dataplane.syslog_tcp_max_held_bytes_per_connection;
    s.tcp_max_held_bytes = cfg.dataplane.syslog_tcp_max_held_bytes;
    s.tcp_window_bytes = cfg.dataplane.syslog_tcp_window_bytes;
    s.tcp_idle_timeout_ms = cfg.dataplane.syslog_tcp_idle_timeout_ms;
    s.sflow_ports = cfg.dataplane.sflow_ports;
    s.max_message_bytes = cfg.dataplane.max_message_bytes;
    s.rx_burst = cfg.dataplane.rx_burst;
    s.batch_records = cfg.offload.batch_records;
    s.batch_flush_us = cfg.offload.batch_flush_us;
    s.fragment_flows = cfg.dataplane.fragment_flows;
    s.fragment_timeout_ms = cfg.dataplane.fragment_timeout_ms;
    s.idle_adaptive = cfg.dataplane.idle == "adaptive";
    s.idle_max_sleep_us = cfg.dataplane.idle_max_sleep_us;
    return s;
}

}  // namespace tapsift::pipeline
