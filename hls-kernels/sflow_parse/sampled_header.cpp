// Synthesizable style: no heap, no recursion, bounded loops (VLAN tags, IPv6 extension headers).
#include "sampled_header.hpp"

#include "flow_parse/big_endian.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {
namespace {

using wire::SflowSample;

constexpr uint32_t kMaxVlanTags = 2;
constexpr uint32_t kMaxIpv6ExtensionHeaders = 4;
constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;

bool is_vlan_tag(uint32_t type) {
    return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n) {
    for (uint32_t i = 0; i < 16; ++i) {
        if (i >= n) break;
        dst[i] = src[i];
    }
}

void set_ipv4_mapped(uint8_t dst[16], const uint8_t *v4) {
    for (uint32_t i = 0; i < 10; ++i) dst[i] = 0;
    dst[10] = 0xff;
    dst[11] = 0xff;
    copy_bytes(dst + 12, v4, 4);
}

void cut(SflowSample &s) {
    s.flags |= wire::kSflowHeaderCut;
}

void decode_l4(const uint8_t *p, uint32_t len, uint8_t protocol, SflowSample &s) {
    switch (protocol) {
        case 6:    // TCP
        case 17:   // UDP
        case 132:  // SCTP: ports in the same place
            if (len < 4) return cut(s);
            s.src_port = static_cast<uint16_t>(be16(p));
            s.dst_port = static_cast<uint16_t>(be16(p + 2));
            s.flags |= wire::kSflowHasPorts;
            if (protocol == 6) {
                if (len < 14) return cut(s);
                s.tcp_flags = p[13];
            }
            return;
        case 1:   // ICMP
        case 58:  // ICMPv6
            if (len < 2) return cut(s);
            s.icmp_type = p[0];
            s.icmp_code = p[1];
            s.flags |= wire::kSflowHasIcmp;
            return;
        default:
            return;
    }
}

void decode_ipv4(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < 20 || (p[0] >> 4) != 4) return cut(s);
    const uint32_t ihl = (p[0] & 0x0fu) * 4;
    s.tos = p[1];
    s.ttl = p[8];
    s.protocol = p[9];
    set_ipv4_mapped(s.src_addr, p + 12);
    set_ipv4_mapped(s.dst_addr, p + 16);
    s.flags |= wire::kSflowHasIp;
    const bool later_fragment = (be16(p + 6) & 0x1fffu) != 0;
    if (ihl < 20 || later_fragment) return;  // no L4 header here
    if (ihl > len) return cut(s);
    decode_l4(p + ihl, len - ihl, s.protocol, s);
}

void decode_ipv6(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < 40 || (p[0] >> 4) != 6) return cut(s);
    s.tos = static_cast<uint8_t>(((p[0] & 0x0fu) << 4) | (p[1] >> 4));
    s.ttl = p[7];
    copy_bytes(s.src_addr, p + 8, 16);
    copy_bytes(s.dst_addr, p + 24, 16);
    s.flags |= wire::kSflowHasIp | wire::kSflowIpv6;
    uint8_t next = p[6];
    uint32_t at = 40;
    for (uint32_t i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
        const bool options = next == 0 || next == 43 || next == 60;  // hop-by-hop, routing, dest
        if (!options && next != 44) break;
        if (at + 8 > len) {
            s.protocol = next;
            return cut(s);
        }
        if (next == 44 && (be16(p + at + 2) & 0xfff8u) != 0) {  // a later fragment: no L4
            s.protocol = p[at];
            return;
        }
        const uint32_t ext = next == 44 ? 8 : (uint32_t{p[at + 1]} + 1) * 8;
        next = p[at];
        at += ext;
    }
    s.protocol = next;
    if (at > len) return cut(s);
    decode_l4(p + at, len - at, next, s);
}

void decode_ethernet(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < 14) return cut(s);
    copy_bytes(s.dst_mac, p, 6);
    copy_bytes(s.src_mac, p + 6, 6);
    s.flags |= wire::kSflowHasEthernet;
    uint32_t at = 12;
    uint32_t type = be16(p + at);
    for (uint32_t i = 0; i < kMaxVlanTags; ++i) {
        if (!is_vlan_tag(type)) break;
        if (at + 6 > len) {
            s.ether_type = static_cast<uint16_t>(type);
            return cut(s);
        }
        if (i == 0) {
            s.vlan = static_cast<uint16_t>(be16(p + at + 2) & 0x0fffu);
            s.flags |= wire::kSflowHasVlan;
        }
        at += 4;
        type = be16(p + at);
    }
    s.ether_type = static_cast<uint16_t>(type);
    at += 2;
    if (type == kEtherIpv4) decode_ipv4(p + at, len - at, s);
    if (type == kEtherIpv6) decode_ipv6(p + at, len - at, s);
}

}  // namespace

bool decode_sampled_header(const uint8_t *p, uint32_t len, uint32_t protocol, SflowSample &s) {
    s.flags |= wire::kSflowHasHeader;
    switch (protocol) {
        case kSflowHeaderEthernet:
            decode_ethernet(p, len, s);
            return true;
        case kSflowHeaderIpv4:
            decode_ipv4(p, len, s);
            return true;
        case kSflowHeaderIpv6:
            decode_ipv6(p, len, s);
            return true;
        default:
            return false;
    }
}

}  // namespace tapsift::hls_kernels
