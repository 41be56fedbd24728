// sflow_parse: crafted sFlow v5 datagrams (every record format, each malformed reason) and the
// corpus of real agents' datagrams (decoded without a malformed outcome where tshark decodes
// them too), through the datagram decoder and the batch top function.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "flow_harness.hpp"
#include "ingest_batch_builder.hpp"
#include "sflow_corpus.hpp"
#include "sflow_parse/sflow_parse.hpp"

using namespace tapsift;
using tapsift::testing::be;
using tapsift::testing::Bytes;
using tapsift::testing::cat;
using wire::SflowMalformed;
using wire::SflowSample;

namespace {

Bytes header(uint32_t samples) {  // IPv4 agent 192.0.2.9, sub-agent 7, sequence 42, uptime 1000
    return cat(
        {be(5, 4), be(1, 4), be(0xc0000209, 4), be(7, 4), be(42, 4), be(1000, 4), be(samples, 4)});
}

Bytes record(uint32_t format, const Bytes &body) {
    return cat({be(format, 4), be(static_cast<uint32_t>(body.size()), 4), body});
}

// Ethernet, one 802.1Q tag (VLAN 10), IPv4 10.0.0.1 > 10.0.0.2 TTL 64 TOS 0x20, TCP 1234 > 443
// with SYN|ACK.
Bytes sampled_tcp_frame() {
    return cat({be(0x001122334455, 6), be(0x66778899aabb, 6), be(0x8100, 2), be(10, 2),
                be(0x0800, 2), be(0x45200028, 4), be(0, 4), be(0x40060000, 4), be(0x0a000001, 4),
                be(0x0a000002, 4), be(1234, 2), be(443, 2), be(0, 8), be(0x50, 1), be(0x12, 1),
                be(0, 6)});
}

Bytes flow_sample(const Bytes &records, uint32_t count) {  // compact format 1, rate 512
    return record(1, cat({be(9, 4), be(0x00000003, 4), be(512, 4), be(100000, 4), be(2, 4),
                          be(3, 4), be(0x80000002, 4), be(count, 4), records}));
}

struct Decoded {
    std::vector<SflowSample> samples;
    SflowMalformed why;
    hls_kernels::SflowParseCounters counters{};
};

Decoded decode(const Bytes &d) {
    Decoded out;
    out.samples.resize(wire::kMaxSflowSamplesPerDatagram);
    SflowSample base{};
    uint32_t lost = 0;
    const uint32_t n = hls_kernels::sflow_decode_datagram(
        d.data(), static_cast<uint32_t>(d.size()), base, out.samples.data(),
        wire::kMaxSflowSamplesPerDatagram, &out.why, &lost, out.counters);
    out.samples.resize(n);
    return out;
}

TEST(SflowParse, FlowSampleWithHeaderSwitchRouterGateway) {
    const Bytes frame = sampled_tcp_frame();
    const Bytes records = cat(
        {record(1, cat({be(1, 4), be(1518, 4), be(4, 4), be(static_cast<uint32_t>(frame.size()), 4),
                        frame, be(0, 4 - frame.size() % 4 == 4 ? 0 : 4 - frame.size() % 4)})),
         record(1001, cat({be(10, 4), be(0xffffffff, 4), be(20, 4), be(3, 4)})),
         record(1002, cat({be(1, 4), be(0x0a0000fe, 4), be(24, 4), be(16, 4)})),
         record(1003, cat({be(1, 4), be(0x0a0000fe, 4), be(65000, 4), be(65001, 4), be(65002, 4),
                           be(2, 4), be(2, 4), be(2, 4), be(100, 4), be(200, 4), be(1, 4), be(1, 4),
                           be(300, 4), be(0, 4), be(100, 4)}))});
    const Decoded d = decode(cat({header(1), flow_sample(records, 4)}));
    ASSERT_EQ(d.why, SflowMalformed::kNone);
    ASSERT_EQ(d.samples.size(), 1u);
    const SflowSample &s = d.samples[0];
    EXPECT_EQ(s.item, static_cast<uint8_t>(wire::SflowItem::kFlowSample));
    EXPECT_EQ(s.agent[15], 9);
    EXPECT_EQ(s.sub_agent_id, 7u);
    EXPECT_EQ(s.datagram_sequence, 42u);
    EXPECT_EQ(s.uptime_ms, 1000u);
    EXPECT_EQ(s.sequence, 9u);
    EXPECT_EQ(s.source_id_index, 3u);
    EXPECT_EQ(s.sampling_rate, 512u);
    EXPECT_EQ(s.drops, 2u);
    EXPECT_EQ(s.input, 3u);
    EXPECT_EQ(s.output_format, 2u);
    EXPECT_EQ(s.output, 2u);
    EXPECT_EQ(s.frame_length, 1518u);
    EXPECT_EQ(s.stripped, 4u);
    EXPECT_EQ(s.vlan, 10);
    EXPECT_EQ(s.ether_type, 0x0800);
    EXPECT_EQ(s.src_mac[5], 0xbb);
    EXPECT_EQ(s.dst_mac[0], 0x00);
    EXPECT_EQ(s.src_addr[15], 1);
    EXPECT_EQ(s.dst_addr[15], 2);
    EXPECT_EQ(s.dst_addr[10], 0xff);  // IPv4-mapped
    EXPECT_EQ(s.protocol, 6);
    EXPECT_EQ(s.tos, 0x20);
    EXPECT_EQ(s.ttl, 64);
    EXPECT_EQ(s.src_port, 1234);
    EXPECT_EQ(s.dst_port, 443);
    EXPECT_EQ(s.tcp_flags, 0x12);
    EXPECT_EQ(s.src_priority, 0xffffffffu);
    EXPECT_EQ(s.dst_vlan, 20u);
    EXPECT_EQ(s.src_mask, 24);
    EXPECT_EQ(s.dst_mask, 16);
    EXPECT_EQ(s.next_hop[15], 0xfe);
    EXPECT_EQ(s.as, 65000u);
    EXPECT_EQ(s.src_peer_as, 65002u);
    EXPECT_EQ(s.dst_peer_as, 100u);
    EXPECT_EQ(s.dst_as, 300u);
    const uint32_t want = wire::kSflowHasHeader | wire::kSflowHasEthernet | wire::kSflowHasIp |
                          wire::kSflowHasPorts | wire::kSflowHasSwitch | wire::kSflowHasRouter |
                          wire::kSflowHasGateway | wire::kSflowHasVlan;
    EXPECT_EQ(s.flags, want);
    EXPECT_EQ(d.counters.headers_decoded, 1u);
}

TEST(SflowParse, HeaderCutInsideIpv4IsKeptAndNoted) {
    Bytes frame = sampled_tcp_frame();
    frame.resize(30);  // inside the IPv4 header
    const Bytes rec = record(1, cat({be(1, 4), be(64, 4), be(0, 4), be(30, 4), frame, be(0, 2)}));
    const Decoded d = decode(cat({header(1), flow_sample(rec, 1)}));
    ASSERT_EQ(d.samples.size(), 1u);
    EXPECT_TRUE(d.samples[0].flags & wire::kSflowHeaderCut);
    EXPECT_FALSE(d.samples[0].flags & wire::kSflowHasIp);
    EXPECT_TRUE(d.samples[0].flags & wire::kSflowHasEthernet);
    EXPECT_EQ(d.counters.headers_cut, 1u);
}

TEST(SflowParse, ExpandedCounterSampleGenericAndEthernet) {
    Bytes generic = cat(
        {be(5, 4), be(6, 4), be(10000000000ull, 8), be(1, 4), be(3, 4), be(123456789012ull, 8)});
    for (uint32_t i = 0; i < 6; ++i) generic = cat({generic, be(i + 1, 4)});
    generic = cat({generic, be(987654321098ull, 8)});
    for (uint32_t i = 0; i < 6; ++i) generic = cat({generic, be(i + 11, 4)});
    Bytes eth;
    for (uint32_t i = 0; i < wire::kSflowEthCounters; ++i) eth = cat({eth, be(100 + i, 4)});
    const Bytes sample = record(4, cat({be(77, 4), be(0, 4), be(5, 4), be(3, 4), record(1, generic),
                                        record(2, eth), record(0x3e9, be(0, 4))}));
    const Decoded d = decode(cat({header(1), sample}));
    ASSERT_EQ(d.why, SflowMalformed::kNone);
    ASSERT_EQ(d.samples.size(), 1u);
    const SflowSample &s = d.samples[0];
    EXPECT_EQ(s.item, static_cast<uint8_t>(wire::SflowItem::kCounterSample));
    EXPECT_TRUE(s.flags & wire::kSflowExpanded);
    EXPECT_EQ(s.sequence, 77u);
    EXPECT_EQ(s.source_id_index, 5u);
    EXPECT_EQ(s.ifc.index, 5u);
    EXPECT_EQ(s.ifc.speed, 10000000000ull);
    EXPECT_EQ(s.ifc.in_octets, 123456789012ull);
    EXPECT_EQ(s.ifc.in_unknown_protos, 6u);
    EXPECT_EQ(s.ifc.out_octets, 987654321098ull);
    EXPECT_EQ(s.ifc.promiscuous, 16u);
    EXPECT_EQ(s.eth[0], 100u);
    EXPECT_EQ(s.eth[12], 112u);
    EXPECT_EQ(d.counters.records_unknown, 1u);  // format 1001 is no counter record
}

TEST(SflowParse, MalformedReasons) {
    const Bytes ok_sample = record(2, cat({be(1, 4), be(1, 4), be(0, 4)}));
    EXPECT_EQ(decode(be(5, 4)).why, SflowMalformed::kTruncatedHeader);
    EXPECT_EQ(decode(cat({be(0x00050000, 4), be(0, 24)})).why, SflowMalformed::kBadVersion);
    EXPECT_EQ(decode(cat({be(5, 4), be(3, 4), be(0, 24)})).why, SflowMalformed::kBadAgentType);
    EXPECT_EQ(decode(cat({be(5, 4), be(2, 4), be(0, 16)})).why, SflowMalformed::kTruncatedHeader);
    EXPECT_EQ(decode(header(2)).why, SflowMalformed::kMissingSamples);
    const Decoded missing = decode(cat({header(2), ok_sample}));
    EXPECT_EQ(missing.why, SflowMalformed::kMissingSamples);
    EXPECT_EQ(missing.samples.size(), 1u);  // what came before the fault is kept
    EXPECT_EQ(decode(cat({header(1), be(2, 4), be(100, 4), be(0, 12)})).why,
              SflowMalformed::kBadSampleLength);
    EXPECT_EQ(decode(cat({header(1), record(1, be(0, 8))})).why, SflowMalformed::kBadSampleHeader);
    EXPECT_EQ(decode(cat({header(1),
                          record(2, cat({be(1, 4), be(1, 4), be(1, 4), be(1, 4), be(500, 4)}))}))
                  .why,
              SflowMalformed::kBadRecordLength);
}

TEST(SflowParse, ShortKnownRecordIsCountedAndSkipped) {
    const Bytes sample = record(2, cat({be(1, 4), be(1, 4), be(1, 4), record(2, be(0, 4))}));
    const Decoded d = decode(cat({header(1), sample}));
    ASSERT_EQ(d.why, SflowMalformed::kNone);
    ASSERT_EQ(d.samples.size(), 1u);
    EXPECT_FALSE(d.samples[0].flags & wire::kSflowHasEthCounters);
    EXPECT_EQ(d.counters.records_short, 1u);
}

TEST(SflowParse, BatchTopFunctionClosesEveryDatagram) {
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const Bytes good = cat({header(2), record(2, cat({be(1, 4), be(1, 4), be(0, 4)})),
                            record(2, cat({be(2, 4), be(1, 4), be(0, 4)}))});
    const Bytes bad = be(5, 4);
    const dataplane::RecordMeta meta{addr, addr, 6343, 6343, wire::RecordKind::kSflowV5,
                                     0,    0,    0,    1,    1};
    ASSERT_TRUE(batch.add(meta, good.data(), static_cast<uint32_t>(good.size())));
    ASSERT_TRUE(batch.add(meta, bad.data(), static_cast<uint32_t>(bad.size())));
    std::vector<hls_kernels::beat_t> out(16 * wire::kSflowItemBeats);
    hls_kernels::SflowParseCounters ctr{};
    const uint32_t n = hls_kernels::sflow_parse(
        reinterpret_cast<const hls_kernels::beat_t *>(batch.data()), out.data(), 16, &ctr);
    ASSERT_EQ(n, 4u);
    std::vector<SflowSample> items(n);
    for (uint32_t i = 0; i < n; ++i) {
        uint8_t bytes[sizeof(SflowSample)];
        for (uint32_t b = 0; b < wire::kSflowItemBeats; ++b)
            hls_kernels::beat_to_bytes(out[i * wire::kSflowItemBeats + b],
                                       bytes + b * wire::kBeatBytes);
        std::memcpy(&items[i], bytes, sizeof bytes);
    }
    EXPECT_EQ(items[0].item, static_cast<uint8_t>(wire::SflowItem::kCounterSample));
    EXPECT_EQ(items[1].sequence, 2u);
    EXPECT_EQ(items[2].item, static_cast<uint8_t>(wire::SflowItem::kDatagramDone));
    EXPECT_EQ(items[2].verdict, static_cast<uint8_t>(wire::Verdict::kForward));
    EXPECT_EQ(items[3].record_index, 1u);
    EXPECT_EQ(items[3].malformed_reason, static_cast<uint8_t>(SflowMalformed::kTruncatedHeader));
    EXPECT_EQ(ctr.datagrams, 2u);
    EXPECT_EQ(ctr.malformed[static_cast<uint32_t>(SflowMalformed::kTruncatedHeader)], 1u);
}

// Real agents: every sample of the corpus decodes; the only malformed datagrams are the NetFlow
// v5 ones sent to 6343 in tcpdump's 30-PDU capture and tcpdump's crafted crash case.
TEST(SflowParse, CorpusOfRealAgents) {
    const auto corpus =
        tapsift::testing::load_sflow_corpus(std::string(TAPSIFT_TEST_CORPUS) + "/sflow");
    ASSERT_GT(corpus.size(), 50u);
    uint32_t samples = 0;
    for (const auto &dg : corpus) {
        const Decoded d = decode(dg.bytes);
        samples += static_cast<uint32_t>(d.samples.size());
        const bool netflow_v5 = dg.bytes.size() >= 2 && dg.bytes[0] == 0 && dg.bytes[1] == 5;
        if (netflow_v5 || dg.source.find("segv") != std::string::npos) {
            EXPECT_NE(d.why, SflowMalformed::kNone) << dg.source << " frame " << dg.frame;
        } else {
            EXPECT_EQ(d.why, SflowMalformed::kNone) << dg.source << " frame " << dg.frame;
        }
    }
    EXPECT_EQ(samples, 406u);  // what tshark shows of enterprise 0, formats 1-4 (the oracle)
}

}  // namespace
