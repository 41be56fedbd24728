#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "l2l4_decode.hpp"

namespace tapsift::dataplane {
namespace {

// Frame builder: Ethernet [+ VLAN tags] [+ PPPoE] + IPv4/IPv6 [6in4] + UDP + payload, with
// correct checksums.
struct FrameSpec {
    std::vector<uint16_t> vlan_tpids;  // outermost first
    bool pppoe = false;
    bool ipv6 = false;
    bool six_in_four = false;  // IPv6 inside an IPv4 header with protocol 41
    uint8_t l4_proto = 17;
    uint16_t dst_port = 514;
    uint16_t frag_field = 0;  // IPv4 flags + fragment offset
    std::string payload = "<13>Jan  1 00:00:00 host app: hi";
};

void put16(std::vector<uint8_t> &f, uint16_t v) {
    f.push_back(static_cast<uint8_t>(v >> 8));
    f.push_back(static_cast<uint8_t>(v));
}

std::vector<uint8_t> udp(const FrameSpec &s) {
    std::vector<uint8_t> f;
    put16(f, 40000);
    put16(f, s.dst_port);
    put16(f, static_cast<uint16_t>(8 + s.payload.size()));
    put16(f, 0);
    f.insert(f.end(), s.payload.begin(), s.payload.end());
    return f;
}

std::vector<uint8_t> ipv6(uint8_t proto, const std::vector<uint8_t> &l4) {
    std::vector<uint8_t> f;
    put16(f, 0x6000);
    put16(f, 0);
    put16(f, static_cast<uint16_t>(l4.size()));
    f.push_back(proto);
    f.push_back(64);
    for (int i = 0; i < 32; ++i) f.push_back(static_cast<uint8_t>(i == 15 || i == 31 ? 1 : 0x20));
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

std::vector<uint8_t> ipv4(uint8_t proto, uint16_t frag_field, const std::vector<uint8_t> &l4) {
    std::vector<uint8_t> f;
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<uint16_t>(20 + l4.size()));
    put16(f, 1);
    put16(f, frag_field);
    f.push_back(64);
    f.push_back(proto);
    put16(f, 0);
    for (uint8_t b : {192, 0, 2, 7, 198, 51, 100, 1}) f.push_back(b);
    uint32_t sum = 0;
    for (size_t i = 0; i < 20; i += 2) sum += (f[i] << 8) | f[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    f[10] = static_cast<uint8_t>(~sum >> 8);
    f[11] = static_cast<uint8_t>(~sum);
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

std::vector<uint8_t> build(const FrameSpec &s) {
    std::vector<uint8_t> f(12, 0x02);  // dst + src MAC
    for (uint16_t tpid : s.vlan_tpids) {
        put16(f, tpid);
        put16(f, 100);  // TCI of the next header
    }
    const bool outer_v6 = s.ipv6 && !s.six_in_four;
    std::vector<uint8_t> l3 =
        s.ipv6 ? ipv6(s.l4_proto, udp(s)) : ipv4(s.l4_proto, s.frag_field, udp(s));
    if (s.six_in_four) l3 = ipv4(41, 0, l3);
    if (s.pppoe) {
        put16(f, 0x8864);
        put16(f, 0x1100);
        put16(f, 0x0001);
        put16(f, static_cast<uint16_t>(l3.size() + 2));
        put16(f, outer_v6 ? 0x0057 : 0x0021);
    } else {
        put16(f, outer_v6 ? 0x86dd : 0x0800);
    }
    f.insert(f.end(), l3.begin(), l3.end());
    return f;
}

DecodedPacket decode(const std::vector<uint8_t> &f) {
    return decode_l2l4(f.data(), static_cast<uint32_t>(f.size()));
}

TEST(L2L4Decode, PlainIpv4Udp) {
    const FrameSpec spec;
    const auto f = build(spec);
    const DecodedPacket p = decode(f);
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_FALSE(p.ipv6);
    EXPECT_EQ(p.src_port, 40000);
    EXPECT_EQ(p.dst_port, 514);
    EXPECT_EQ(p.payload_len, spec.payload.size());
    EXPECT_EQ(std::memcmp(f.data() + p.payload_offset, spec.payload.data(), spec.payload.size()),
              0);
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    EXPECT_EQ(std::memcmp(p.src_addr, mapped, 16), 0);
}

TEST(L2L4Decode, VlanAndQinQ) {
    FrameSpec one;
    one.vlan_tpids = {0x8100};
    EXPECT_EQ(decode(build(one)).status, DecodeStatus::kUdp);
    EXPECT_EQ(decode(build(one)).payload_offset, 14u + 4 + 20 + 8);
    FrameSpec two;
    two.vlan_tpids = {0x88a8, 0x8100};
    const DecodedPacket p = decode(build(two));
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_EQ(p.payload_offset, 14u + 8 + 20 + 8);
}

TEST(L2L4Decode, Ipv6Udp) {
    FrameSpec s;
    s.ipv6 = true;
    const DecodedPacket p = decode(build(s));
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_TRUE(p.ipv6);
    EXPECT_EQ(p.src_addr[0], 0x20);
    EXPECT_EQ(p.src_addr[15], 1);
    EXPECT_EQ(p.payload_len, s.payload.size());
}

TEST(L2L4Decode, PppoeSessionIpv4AndIpv6) {
    FrameSpec v4;
    v4.pppoe = true;
    const DecodedPacket p = decode(build(v4));
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_EQ(p.payload_offset, 14u + 8 + 20 + 8);
    FrameSpec v6 = v4;
    v6.ipv6 = true;
    EXPECT_EQ(decode(build(v6)).status, DecodeStatus::kUdp);
    auto lcp = build(v4);
    lcp[14 + 6] = 0xc0;  // PPP LCP, not IP
    lcp[14 + 7] = 0x21;
    EXPECT_EQ(decode(lcp).dropped, RxDropped::kNotIp);
}

TEST(L2L4Decode, SixInFourUsesTheInnerHeaders) {
    FrameSpec s;
    s.ipv6 = true;
    s.six_in_four = true;
    const DecodedPacket p = decode(build(s));
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_TRUE(p.ipv6);
    EXPECT_EQ(p.src_addr[0], 0x20);
    EXPECT_EQ(p.payload_offset, 14u + 20 + 40 + 8);
    EXPECT_EQ(p.payload_len, s.payload.size());
}

TEST(L2L4Decode, Ipv6FragmentHeaderIsCountedNotParsed) {
    FrameSpec s;
    s.ipv6 = true;
    s.l4_proto = 44;
    const DecodedPacket p = decode(build(s));
    ASSERT_EQ(p.status, DecodeStatus::kDropped);
    EXPECT_EQ(p.dropped, RxDropped::kIpv6Fragment);
}

TEST(L2L4Decode, Ipv4FragmentsGoToReassembly) {
    for (uint16_t frag :
         {uint16_t{0x2000}, uint16_t{0x0010}, uint16_t{0x2010}}) {  // MF; offset; both
        FrameSpec s;
        s.frag_field = frag;
        const DecodedPacket p = decode(build(s));
        EXPECT_EQ(p.status, DecodeStatus::kIpv4Fragment) << frag;
        EXPECT_EQ(p.l2_len, 14);
        EXPECT_EQ(p.l3_len, 20);
    }
}

// Found in review: fragments reaching past 64 KiB reassembled into more than any datagram (and
// more than the RX loop's linear buffer).
TEST(L2L4Decode, FragmentReachingPast64KiBIsOversized) {
    FrameSpec s;
    s.payload = std::string(1000, 'x');
    s.frag_field = static_cast<uint16_t>(65000 / 8);  // offset 65000, last fragment
    const DecodedPacket p = decode(build(s));
    ASSERT_EQ(p.status, DecodeStatus::kMalformed);
    EXPECT_EQ(p.malformed, RxMalformed::kOversizedFrame);
    s.frag_field = static_cast<uint16_t>(64000 / 8);  // ends at 65028: still a possible datagram
    EXPECT_EQ(decode(build(s)).status, DecodeStatus::kIpv4Fragment);
}

TEST(L2L4Decode, NotIpNotUdp) {
    auto arp = build(FrameSpec{});
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_EQ(decode(arp).dropped, RxDropped::kNotIp);
    FrameSpec icmp;
    icmp.l4_proto = 1;
    EXPECT_EQ(decode(build(icmp)).dropped, RxDropped::kNotUdp);
}

// Ethernet + IPv4 or IPv6 + TCP (20-byte header plus options_len bytes of options) + payload.
std::vector<uint8_t> tcp_frame(bool v6, uint8_t flags, uint8_t options_len,
                               const std::string &payload) {
    std::vector<uint8_t> l4;
    put16(l4, 40000);
    put16(l4, 514);
    for (uint8_t b : {0xde, 0xad, 0xbe, 0xef}) l4.push_back(b);  // sequence number
    for (int i = 0; i < 4; ++i) l4.push_back(0);                 // ack
    l4.push_back(static_cast<uint8_t>(((20 + options_len) / 4) << 4));
    l4.push_back(flags);
    put16(l4, 65535);
    put16(l4, 0);
    put16(l4, 0);
    l4.insert(l4.end(), options_len, 1);  // NOPs
    l4.insert(l4.end(), payload.begin(), payload.end());
    std::vector<uint8_t> f(12, 0x02);
    put16(f, v6 ? 0x86dd : 0x0800);
    const auto l3 = v6 ? ipv6(6, l4) : ipv4(6, 0, l4);
    f.insert(f.end(), l3.begin(), l3.end());
    return f;
}

TEST(L2L4Decode, TcpSegmentsGiveSequenceFlagsAndPayload) {
    const std::string msg = "<13>Jan  1 00:00:00 host app: hi\n";
    for (const bool v6 : {false, true}) {
        const auto f = tcp_frame(v6, 0x18 /* PSH ACK */, 12, msg);
        const DecodedPacket p = decode(f);
        ASSERT_EQ(p.status, DecodeStatus::kTcp) << v6;
        EXPECT_EQ(p.ipv6, v6);
        EXPECT_EQ(p.src_port, 40000);
        EXPECT_EQ(p.dst_port, 514);
        EXPECT_EQ(p.tcp_seq, 0xdeadbeefu);
        EXPECT_EQ(p.tcp_flags, 0x18);
        ASSERT_EQ(p.payload_len, msg.size());
        EXPECT_EQ(std::memcmp(f.data() + p.payload_offset, msg.data(), msg.size()), 0);
    }
    const DecodedPacket syn = decode(tcp_frame(false, 0x02, 0, ""));
    ASSERT_EQ(syn.status, DecodeStatus::kTcp);
    EXPECT_EQ(syn.payload_len, 0u);
}

TEST(L2L4Decode, TcpHeaderThatDoesNotFitIsNotRead) {
    auto f = tcp_frame(false, 0x18, 0, "ab");
    f[14 + 20 + 12] = 0x40;  // data offset 4 words: shorter than a TCP header
    EXPECT_EQ(decode(f).dropped, RxDropped::kNotUdp);
    f[14 + 20 + 12] = 0x70;  // 7 words: past the 22 bytes the segment has
    EXPECT_EQ(decode(f).dropped, RxDropped::kNotUdp);
}

TEST(L2L4Decode, EveryTruncationIsMalformedNeverACrash) {
    const auto full = build(FrameSpec{});
    for (size_t len = 0; len < full.size(); ++len) {
        const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
        const DecodedPacket p = decode(cut);
        EXPECT_EQ(p.status, DecodeStatus::kMalformed) << "length " << len;
    }
    EXPECT_EQ(decode(std::vector<uint8_t>(full.begin(), full.begin() + 10)).malformed,
              RxMalformed::kTruncatedL2);
    EXPECT_EQ(decode(std::vector<uint8_t>(full.begin(), full.begin() + 30)).malformed,
              RxMalformed::kTruncatedL3);
}

TEST(L2L4Decode, BadChecksumAndBadUdpLength) {
    auto f = build(FrameSpec{});
    f[14 + 8] ^= 1;  // TTL changes, checksum no longer matches
    EXPECT_EQ(decode(f).malformed, RxMalformed::kBadIpv4Checksum);
    EXPECT_EQ(decode_l2l4(f.data(), static_cast<uint32_t>(f.size()), true).status,
              DecodeStatus::kUdp)
        << "reassembled datagrams skip the checksum";
    auto g = build(FrameSpec{});
    g[14 + 20 + 4] = 0x7f;  // UDP length far beyond the IP payload
    EXPECT_EQ(decode(g).malformed, RxMalformed::kBadUdpLength);
}

TEST(L2L4Decode, EthernetPaddingIsIgnored) {
    FrameSpec s;
    s.payload = "<1>x";
    auto f = build(s);
    f.resize(60, 0);  // minimum frame size
    const DecodedPacket p = decode(f);
    ASSERT_EQ(p.status, DecodeStatus::kUdp);
    EXPECT_EQ(p.payload_len, 4u);
}

}  // namespace
}  // namespace tapsift::dataplane
