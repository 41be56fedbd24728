// L2-L4 decode of one frame: Ethernet, 802.1Q / QinQ, PPPoE session, IPv4 / IPv6 (and IPv6 in
// IPv4, 6in4), UDP, TCP. Addresses and ports are the innermost ones.
// Works on a contiguous byte view, so tests and fuzzers need no EAL and no mbufs.
#pragma once

#include <cstdint>

#include "rx_counters.hpp"

namespace tapsift::dataplane {

enum class DecodeStatus : uint8_t {
    kUdp,           // a UDP datagram: the fields below are valid
    kTcp,           // a TCP segment: the fields below and tcp_seq, tcp_flags are valid
    kIpv4Fragment,  // needs reassembly; l2_len/l3_len are valid
    kMalformed,     // see malformed
    kDropped,       // see dropped
};

struct DecodedPacket {
    DecodeStatus status;
    RxMalformed malformed;
    RxDropped dropped;
    bool ipv6;
    uint8_t src_addr[16];  // IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
    uint8_t dst_addr[16];
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t l2_len;
    uint16_t l3_len;
    uint32_t payload_offset;
    uint32_t payload_len;
    uint32_t tcp_seq;
    uint8_t tcp_flags;  // RTE_TCP_SYN_FLAG, RTE_TCP_FIN_FLAG, RTE_TCP_RST_FLAG, ...
};

// reassembled: the frame was rebuilt from fragments (its IPv4 checksum is not re-verified).
DecodedPacket decode_l2l4(const uint8_t *frame, uint32_t len, bool reassembled = false);

}  // namespace tapsift::dataplane
