// What the RX loop counts, per lcore (l3fwd's style: the dataplane owns its counters; the host
// reads them into its accounting once the loops end: Counters::add_rx, host/metrics/counters.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "syslog_tcp_connections.hpp"

namespace tapsift::dataplane {

// Why a frame never reached a batch because it is not well formed.
enum class RxMalformed : uint8_t {
    kTruncatedL2,
    kTruncatedL3,
    kBadIpHeader,
    kBadIpv4Checksum,
    kBadUdpLength,
    kOversizedFrame,  // larger than the largest UDP datagram (a jumbo capture, or fragments past 64
                      // KiB)
    kFlowBadVersion,  // on a flow port, but not NetFlow v5/v9 or IPFIX
    kCount
};

// Why a well-formed frame never reached a batch.
enum class RxDropped : uint8_t {
    kNotIp,
    kNotUdp,        // neither UDP nor TCP to or from a syslog TCP or TLS port
    kNotTelemetry,  // a UDP port no list names (dataplane.syslog_ports, flow_ports, sflow_ports)
    kIpv6Fragment,
    kFragmentDiscarded,   // expired, evicted, overlapping, or no room in the reassembly table
    kFragmentIncomplete,  // still waiting for its other fragments at shutdown
    kUnbatchable,         // an empty batch could not hold the datagram
    kCount
};

// Syslog over TCP. Each TCP segment to or from a port of dataplane.syslog_tcp_ports or
// dataplane.syslog_tls_ports ends in exactly one of: the table's segment outcomes, its
// segments_table_full, encrypted or server_segments (segments()). Each framed message handed to
// the syslog batch (messages) then ends like a UDP syslog datagram does.
struct RxTcpCounters {
    // The connection table's: segments and connections as they happen; stream and framing bytes
    // summed over closed connections (all of them once the loop has stopped).
    SyslogTcpCounters table;
    uint64_t encrypted = 0;        // to or from a syslog TLS port: a tap cannot read TLS
    uint64_t encrypted_bytes = 0;  // their payload
    uint64_t server_segments = 0;  // server to client (acknowledgements): not followed
    uint64_t payload_bytes = 0;    // payload of the segments the table was given
    uint64_t messages = 0;         // framed messages handed to the syslog batch

    uint64_t segments() const {
        uint64_t sum = table.segments_table_full + encrypted + server_segments;
        for (uint64_t v : table.segments) sum += v;
        return sum;
    }
};

struct RxCounters {
    uint64_t rx_packets = 0;
    uint64_t rx_bytes = 0;
    uint64_t merged_fragments = 0;  // fragments folded into a reassembled datagram
    std::array<uint64_t, static_cast<size_t>(RxMalformed::kCount)> malformed{};
    std::array<uint64_t, static_cast<size_t>(RxDropped::kCount)> dropped{};

    // Not terminal: what was seen along the way.
    uint64_t reassembled_datagrams = 0;
    uint64_t syslog_truncated = 0;  // cut to dataplane.max_message_bytes
    uint64_t batches = 0;           // handed to the BatchSink
    uint64_t idle_sleeps = 0;       // the loop slept, finding no packet (dataplane.idle)
    RxTcpCounters tcp;

    void count(RxMalformed m) { malformed[static_cast<size_t>(m)]++; }
    void count(RxDropped d) { dropped[static_cast<size_t>(d)]++; }
};

// What one RX queue received (the lcore's RxCounters sum every queue it polls).
struct QueueRxCounters {
    uint64_t packets = 0;
    uint64_t bytes = 0;
};

}  // namespace tapsift::dataplane
