// What the RX loop needs to know, filled by the host from its config
// (host/pipeline/dataplane_settings.cpp), which names and validates the defaults.
#pragma once

#include <cstdint>
#include <vector>

namespace tapsift::dataplane {

struct RxSettings {
    std::vector<uint16_t> syslog_ports;
    std::vector<uint16_t> flow_ports;   // NetFlow v5/v9 or IPFIX, told apart by the version field
    std::vector<uint16_t> sflow_ports;  // sFlow v5
    std::vector<uint16_t> syslog_tcp_ports;  // RFC 6587 syslog over TCP, reassembled and framed
    std::vector<uint16_t> syslog_tls_ports;  // RFC 5425 syslog over TLS: counted, not readable
    uint32_t tcp_max_connections = 0;        // per lcore
    uint32_t tcp_max_held_bytes_per_connection = 0;  // out-of-order bytes one connection holds
    uint64_t tcp_max_held_bytes = 0;                 // ... and all of an lcore's connections
    uint32_t tcp_window_bytes = 0;  // how far past the next expected byte a segment may start
    uint32_t tcp_idle_timeout_ms = 0;
    uint32_t max_message_bytes = 0;  // syslog payloads are cut to this
    uint32_t rx_burst = 0;
    uint32_t batch_records = 0;
    uint32_t batch_flush_us = 0;  // a batch not full after this long is handed on anyway
    uint32_t fragment_flows = 0;  // IPv4 datagrams the reassembly table holds at once
    uint32_t fragment_timeout_ms = 0;
    bool idle_adaptive = true;       // dataplane.idle: adaptive (sleep when quiet) or busy_poll
    uint32_t idle_max_sleep_us = 0;  // the longest sleep: the latency bound of a quiet loop
};

}  // namespace tapsift::dataplane
