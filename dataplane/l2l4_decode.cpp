#include "l2l4_decode.hpp"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstring>

namespace tapsift::dataplane {
namespace {

constexpr int kMaxVlanTags = 2;  // QinQ
constexpr uint16_t kPppoeHeaderLen = 6;
constexpr uint16_t kPppIpv4 = 0x0021;
constexpr uint16_t kPppIpv6 = 0x0057;
constexpr uint8_t kIpProtoIpv6InIpv4 = 41;
constexpr uint32_t kMaxIpv4TotalLength = 65535;  // 6in4 tunnels (RFC 4213), seen on real taps

DecodedPacket malformed(RxMalformed m) {
    DecodedPacket p{};
    p.status = DecodeStatus::kMalformed;
    p.malformed = m;
    return p;
}

DecodedPacket dropped(RxDropped d) {
    DecodedPacket p{};
    p.status = DecodeStatus::kDropped;
    p.dropped = d;
    return p;
}

void ipv4_mapped(uint8_t out[16], const void *addr4) {
    std::memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out + 12, addr4, 4);
}

DecodedPacket decode_udp(const uint8_t *frame, uint32_t l4_offset, uint32_t l4_len,
                         DecodedPacket p) {
    if (l4_len < sizeof(rte_udp_hdr)) return malformed(RxMalformed::kTruncatedL3);
    rte_udp_hdr udp;
    std::memcpy(&udp, frame + l4_offset, sizeof udp);
    const uint32_t udp_len = rte_be_to_cpu_16(udp.dgram_len);
    if (udp_len < sizeof(rte_udp_hdr) || udp_len > l4_len)
        return malformed(RxMalformed::kBadUdpLength);
    p.status = DecodeStatus::kUdp;
    p.src_port = rte_be_to_cpu_16(udp.src_port);
    p.dst_port = rte_be_to_cpu_16(udp.dst_port);
    p.payload_offset = l4_offset + sizeof(rte_udp_hdr);
    p.payload_len = udp_len - sizeof(rte_udp_hdr);
    return p;
}

// A TCP segment's ports, sequence number, flags and payload. A header that does not fit is left
// to the caller's not-UDP count until syslog TCP reassembly reads these segments.
DecodedPacket decode_tcp(const uint8_t *frame, uint32_t l4_offset, uint32_t l4_len,
                         DecodedPacket p) {
    if (l4_len < sizeof(rte_tcp_hdr)) return dropped(RxDropped::kNotUdp);
    rte_tcp_hdr tcp;
    std::memcpy(&tcp, frame + l4_offset, sizeof tcp);
    const uint32_t header = (tcp.data_off >> 4) * 4u;
    if (header < sizeof(rte_tcp_hdr) || header > l4_len) return dropped(RxDropped::kNotUdp);
    p.status = DecodeStatus::kTcp;
    p.src_port = rte_be_to_cpu_16(tcp.src_port);
    p.dst_port = rte_be_to_cpu_16(tcp.dst_port);
    p.tcp_seq = rte_be_to_cpu_32(tcp.sent_seq);
    p.tcp_flags = tcp.tcp_flags;
    p.payload_offset = l4_offset + header;
    p.payload_len = l4_len - header;
    return p;
}

DecodedPacket decode_ipv6(const uint8_t *frame, uint32_t len, uint32_t l3);

DecodedPacket decode_ipv4(const uint8_t *frame, uint32_t len, uint32_t l3, bool reassembled) {
    if (len - l3 < sizeof(rte_ipv4_hdr)) return malformed(RxMalformed::kTruncatedL3);
    rte_ipv4_hdr ip;
    std::memcpy(&ip, frame + l3, sizeof ip);
    const uint32_t ihl = (ip.version_ihl & 0x0f) * 4u;
    const uint32_t total = rte_be_to_cpu_16(ip.total_length);
    if ((ip.version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || total < ihl) {
        return malformed(RxMalformed::kBadIpHeader);
    }
    if (total > len - l3 || ihl > len - l3) return malformed(RxMalformed::kTruncatedL3);
    if (!reassembled && rte_raw_cksum(frame + l3, ihl) != 0xffff)
        return malformed(RxMalformed::kBadIpv4Checksum);
    DecodedPacket p{};
    p.l2_len = static_cast<uint16_t>(l3);
    p.l3_len = static_cast<uint16_t>(ihl);
    ipv4_mapped(p.src_addr, &ip.src_addr);
    ipv4_mapped(p.dst_addr, &ip.dst_addr);
    if (rte_ipv4_frag_pkt_is_fragmented(&ip)) {
        // A fragment reaching past 64 KiB would reassemble into more than any datagram can be.
        const uint32_t offset_bytes =
            (rte_be_to_cpu_16(ip.fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) * 8u;
        if (offset_bytes + total > kMaxIpv4TotalLength)
            return malformed(RxMalformed::kOversizedFrame);
        if (ip.next_proto_id != IPPROTO_UDP) return dropped(RxDropped::kNotUdp);
        p.status = DecodeStatus::kIpv4Fragment;
        return p;
    }
    if (ip.next_proto_id == kIpProtoIpv6InIpv4) return decode_ipv6(frame, l3 + total, l3 + ihl);
    if (ip.next_proto_id == IPPROTO_TCP) return decode_tcp(frame, l3 + ihl, total - ihl, p);
    if (ip.next_proto_id != IPPROTO_UDP) return dropped(RxDropped::kNotUdp);
    return decode_udp(frame, l3 + ihl, total - ihl, p);
}

DecodedPacket decode_ipv6(const uint8_t *frame, uint32_t len, uint32_t l3) {
    if (len - l3 < sizeof(rte_ipv6_hdr)) return malformed(RxMalformed::kTruncatedL3);
    rte_ipv6_hdr ip;
    std::memcpy(&ip, frame + l3, sizeof ip);
    if ((rte_be_to_cpu_32(ip.vtc_flow) >> 28) != 6) return malformed(RxMalformed::kBadIpHeader);
    const uint32_t payload = rte_be_to_cpu_16(ip.payload_len);
    if (payload > len - l3 - sizeof(rte_ipv6_hdr)) return malformed(RxMalformed::kTruncatedL3);
    // Extension headers other than a fragment header are not expected from syslog/flow exporters.
    if (ip.proto == IPPROTO_FRAGMENT) return dropped(RxDropped::kIpv6Fragment);
    if (ip.proto != IPPROTO_UDP && ip.proto != IPPROTO_TCP) return dropped(RxDropped::kNotUdp);
    DecodedPacket p{};
    p.ipv6 = true;
    p.l2_len = static_cast<uint16_t>(l3);
    p.l3_len = sizeof(rte_ipv6_hdr);
    std::memcpy(p.src_addr, ip.src_addr, 16);
    std::memcpy(p.dst_addr, ip.dst_addr, 16);
    if (ip.proto == IPPROTO_TCP) return decode_tcp(frame, l3 + sizeof(rte_ipv6_hdr), payload, p);
    return decode_udp(frame, l3 + sizeof(rte_ipv6_hdr), payload, p);
}

}  // namespace

DecodedPacket decode_l2l4(const uint8_t *frame, uint32_t len, bool reassembled) {
    if (len < sizeof(rte_ether_hdr)) return malformed(RxMalformed::kTruncatedL2);
    rte_ether_hdr eth;
    std::memcpy(&eth, frame, sizeof eth);
    uint16_t ether_type = rte_be_to_cpu_16(eth.ether_type);
    uint32_t offset = sizeof(rte_ether_hdr);
    for (int tag = 0; tag < kMaxVlanTags; ++tag) {
        if (ether_type != RTE_ETHER_TYPE_VLAN && ether_type != RTE_ETHER_TYPE_QINQ) break;
        if (len - offset < sizeof(rte_vlan_hdr)) return malformed(RxMalformed::kTruncatedL2);
        rte_vlan_hdr vlan;
        std::memcpy(&vlan, frame + offset, sizeof vlan);
        ether_type = rte_be_to_cpu_16(vlan.eth_proto);
        offset += sizeof(rte_vlan_hdr);
    }
    if (ether_type == RTE_ETHER_TYPE_PPPOE_SESSION) {
        if (len - offset < kPppoeHeaderLen + 2u) return malformed(RxMalformed::kTruncatedL2);
        const uint16_t ppp_proto = static_cast<uint16_t>(frame[offset + kPppoeHeaderLen] << 8 |
                                                         frame[offset + kPppoeHeaderLen + 1]);
        offset += kPppoeHeaderLen + 2u;
        ether_type = ppp_proto == kPppIpv4   ? RTE_ETHER_TYPE_IPV4
                     : ppp_proto == kPppIpv6 ? RTE_ETHER_TYPE_IPV6
                                             : 0;
    }
    switch (ether_type) {
        case RTE_ETHER_TYPE_IPV4:
            return decode_ipv4(frame, len, offset, reassembled);
        case RTE_ETHER_TYPE_IPV6:
            return decode_ipv6(frame, len, offset);
        default:
            return dropped(RxDropped::kNotIp);
    }
}

}  // namespace tapsift::dataplane
