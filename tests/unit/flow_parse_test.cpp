// flow_parse: templates and their scope, data records, sampling, and every hostile input as a
// counted reason.
#include <gtest/gtest.h>

#include <cstring>

#include "flow_harness.hpp"
#include "flow_parse/template_store.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::testing {
namespace {

using hls_kernels::TemplateRejected;
using wire::FlowDescriptor;
using wire::FlowItem;

uint64_t rejected(const FlowEngine &e, TemplateRejected why) {
    return e.counters.templates_rejected[static_cast<size_t>(why)];
}

const std::vector<Field> kFlowFields = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}};

Bytes flow_record(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto,
                  uint64_t bytes, uint32_t packets) {
    return cat({be(src, 4), be(dst, 4), be(sport, 2), be(dport, 2), be(proto, 1), be(bytes, 8),
                be(packets, 4)});
}

uint32_t ipv4_of(const uint8_t addr[16]) {
    return (uint32_t{addr[12]} << 24) | (addr[13] << 16) | (addr[14] << 8) | addr[15];
}

const FlowDescriptor &packet_done(const std::vector<FlowDescriptor> &items) {
    for (const auto &i : items) {
        if (i.item == static_cast<uint8_t>(FlowItem::kPacketDone)) return i;
    }
    throw std::logic_error("no kPacketDone item");
}

TEST(FlowParse, NetflowV5RecordsWithTimesFromUptime) {
    FlowEngine e;
    // Uptime 100000 ms, 1700000000 s + 5 ns, engine type 1 / id 2, 1-in-64.
    const Bytes pkt = v5_packet(100000, 1700000000, 5, 0x0102, 0x4040,
                                {v5_record(0x0a000001, 0x0a000101, 1234, 443),
                                 v5_record(0x0a000002, 0x0a000101, 1234, 443)});
    const auto records = e.records({Datagram{pkt, wire::RecordKind::kNetflowV5}});
    ASSERT_EQ(records.size(), 2u);
    const FlowDescriptor &r = records[1];
    EXPECT_EQ(ipv4_of(r.src_addr), 0x0a000002u);
    EXPECT_EQ(r.src_port, 1234);
    EXPECT_EQ(r.dst_port, 443);
    EXPECT_EQ(r.protocol, 6);
    EXPECT_EQ(r.tcp_flags, 0x18);
    EXPECT_EQ(r.bytes, 1500u);
    EXPECT_EQ(r.packets, 10u);
    EXPECT_EQ(r.observation_domain, 0x0102u);
    EXPECT_EQ(r.sampling_interval, 64u);
    const int64_t export_ns = 1700000000LL * 1000000000 + 5;
    EXPECT_EQ(r.start_ns, export_ns - 10000LL * 1000000);  // first = uptime - 10 s
    EXPECT_EQ(r.end_ns, export_ns - 1000LL * 1000000);
    EXPECT_EQ(r.record.off, 24 + 48);
    EXPECT_EQ(r.record.len, 48);
}

TEST(FlowParse, V9TemplateThenDataInOneDatagram) {
    FlowEngine e;
    const Bytes pkt =
        v9_packet(7, 5000, 1700000000,
                  {template_set(false, 300, kFlowFields),
                   data_set(300, cat({flow_record(0xc0000201, 0xc6336401, 1, 2, 17, 99, 3),
                                      flow_record(0xc0000202, 0xc6336402, 3, 4, 6, 100, 4)}))});
    const auto all = e.run({v9(pkt)});
    // The template learned, two records, then the datagram's outcome.
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].item, static_cast<uint8_t>(FlowItem::kTemplateLearned));
    const std::vector<FlowDescriptor> items(all.begin() + 1, all.end());
    EXPECT_EQ(items[0].template_id, 300);
    EXPECT_EQ(items[0].observation_domain, 7u);
    EXPECT_EQ(ipv4_of(items[1].dst_addr), 0xc6336402u);
    EXPECT_EQ(items[1].bytes, 100u);
    EXPECT_EQ(items[2].item, static_cast<uint8_t>(FlowItem::kPacketDone));
    EXPECT_EQ(items[2].verdict, static_cast<uint8_t>(wire::Verdict::kForward));
    EXPECT_EQ(e.counters.templates_learned, 1u);
    EXPECT_EQ(e.counters.records, 2u);
}

TEST(FlowParse, TemplatesAreScopedByExporterAndDomainNotPort) {
    FlowEngine e;
    // Template 256 means different layouts for two exporters and for two domains of one.
    const std::vector<Field> a = {{7, 2}, {11, 2}};
    const std::vector<Field> b = {{11, 2}, {7, 2}};
    e.run({ipfix(ipfix_message(1, 0, {template_set(true, 256, a)}), {192, 0, 2, 1}),
           ipfix(ipfix_message(1, 0, {template_set(true, 256, b)}), {192, 0, 2, 2}),
           ipfix(ipfix_message(2, 0, {template_set(true, 256, b)}), {192, 0, 2, 1})});
    EXPECT_EQ(e.counters.templates_learned, 3u);
    const Bytes rec = cat({be(1111, 2), be(2222, 2)});
    Datagram from_other_port = ipfix(ipfix_message(1, 0, {data_set(256, rec)}), {192, 0, 2, 1});
    from_other_port.src_port = 40999;  // the exporter's port is not part of the key
    const auto records = e.records(
        {from_other_port, ipfix(ipfix_message(1, 0, {data_set(256, rec)}), {192, 0, 2, 2}),
         ipfix(ipfix_message(2, 0, {data_set(256, rec)}), {192, 0, 2, 1})});
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].src_port, 1111);
    EXPECT_EQ(records[1].src_port, 2222);
    EXPECT_EQ(records[2].src_port, 2222);
}

TEST(FlowParse, DataBeforeItsTemplateIsReturnedAsAPendingSet) {
    FlowEngine e;
    const Bytes data = data_set(400, flow_record(1, 2, 3, 4, 6, 5, 6));
    const auto items = e.run({v9(v9_packet(0, 0, 0, {data}))});
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].item, static_cast<uint8_t>(FlowItem::kPendingSet));
    EXPECT_EQ(items[0].template_id, 400);
    EXPECT_EQ(items[0].record.off, wire::kNetflowV9HeaderBytes);
    EXPECT_EQ(items[0].record.len, data.size());
    EXPECT_EQ(e.counters.sets_without_template, 1u);
}

TEST(FlowParse, RefreshKeepsTheGenerationAndRedefinitionReplaces) {
    FlowEngine e;
    e.run({ipfix(ipfix_message(0, 0, {template_set(true, 500, kFlowFields)}))});
    e.run({ipfix(ipfix_message(0, 0, {template_set(true, 500, kFlowFields)}))});
    EXPECT_EQ(e.counters.templates_refreshed, 1u);
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const int32_t slot = hls_kernels::template_find(*e.state, exporter, 0, 500);
    ASSERT_GE(slot, 0);
    const uint32_t generation = e.state->templates[slot].generation;
    e.run({ipfix(ipfix_message(0, 0, {template_set(true, 500, {{7, 2}})}))});
    EXPECT_EQ(e.counters.templates_replaced, 1u);
    EXPECT_NE(e.state->templates[slot].generation, generation);
    EXPECT_EQ(e.state->templates[slot].field_count, 1);
    // An IPFIX withdrawal (field count 0) removes it.
    e.run({ipfix(ipfix_message(0, 0, {cat({be(2, 2), be(8, 2), be(500, 2), be(0, 2)})}))});
    EXPECT_EQ(e.counters.templates_withdrawn, 1u);
    EXPECT_LT(hls_kernels::template_find(*e.state, exporter, 0, 500), 0);
}

TEST(FlowParse, TemplatesExpireByPacketTime) {
    FlowEngine e(60LL * 1000000000);
    Datagram t = ipfix(ipfix_message(0, 0, {template_set(true, 256, {{7, 2}})}));
    e.run({t});
    Datagram late = ipfix(ipfix_message(0, 0, {data_set(256, be(80, 2))}));
    late.arrival_ns = t.arrival_ns + 61LL * 1000000000;
    const auto items = e.run({late});
    EXPECT_EQ(e.counters.templates_expired, 1u);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].item, static_cast<uint8_t>(FlowItem::kTemplateExpired));
    EXPECT_EQ(items[1].item, static_cast<uint8_t>(FlowItem::kPendingSet));
}

TEST(FlowParse, ATemplateFloodEvictsWithinFixedMemoryAndCountsIt) {
    FlowEngine e;
    const uint32_t flood = 5000;
    for (uint32_t first = 0; first < flood; first += 200) {
        std::vector<Bytes> sets;
        for (uint32_t id = first; id < first + 200; ++id)
            sets.push_back(template_set(true, static_cast<uint16_t>(256 + id), {{7, 2}}));
        e.run({ipfix(ipfix_message(0, 0, sets))});
    }
    EXPECT_EQ(e.counters.templates_learned, flood);
    uint32_t in_use = 0;
    for (const auto &t : e.state->templates) in_use += t.in_use;
    EXPECT_EQ(e.counters.templates_evicted, flood - in_use);
    EXPECT_GT(e.counters.templates_evicted, 0u);
    EXPECT_LE(in_use, wire::kTemplateSlots);
}

TEST(FlowParse, IpfixVariableLengthEnterpriseAndReverseFields) {
    FlowEngine e;
    const std::vector<Field> fields = {
        {7, 2}, {82, wire::kVariableLength}, {1, 4, wire::kReversePen}, {9999, 3, 35632}};
    const Bytes long_name(300, 'x');
    const Bytes records = cat({be(1, 2), be(3, 1), Bytes{'e', 't', 'h'}, be(7, 4), be(0xabcdef, 3),
                               be(2, 2), be(255, 1), be(300, 2), long_name, be(8, 4), be(1, 3)});
    const auto out = e.records(
        {ipfix(ipfix_message(0, 0, {template_set(true, 256, fields), data_set(256, records)}))});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].record.len, 2 + 1 + 3 + 4 + 3);
    EXPECT_EQ(out[1].record.len, 2 + 3 + 300 + 4 + 3);
    EXPECT_EQ(out[1].src_port, 2);
    EXPECT_TRUE(out[0].flags & wire::kFlowBiflow);
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const auto &t = e.state->templates[hls_kernels::template_find(*e.state, exporter, 0, 256)];
    EXPECT_EQ(t.fields[3].pen, 35632u);
    EXPECT_EQ(t.fields[3].ie, 9999);
    EXPECT_EQ(t.min_record_bytes, 2 + 1 + 4 + 3);
}

TEST(FlowParse, AVariableFieldPastItsSetCutsTheSetShort) {
    FlowEngine e;
    const Bytes records = cat({be(1, 2), be(200, 1), Bytes(10, 'y')});
    const auto out = e.records(
        {ipfix(ipfix_message(0, 0,
                             {template_set(true, 256, {{7, 2}, {82, wire::kVariableLength}}),
                              data_set(256, records)}))});
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(e.counters.records_truncated, 1u);
}

TEST(FlowParse, AVariableLengthAddressIsReadOnlyAtItsExactLength) {
    FlowEngine e;
    const std::vector<Field> fields = {{27, wire::kVariableLength}, {7, 2}};
    const Bytes records = cat({be(1, 1), be(0xab, 1), be(80, 2)});  // a 1-byte "IPv6 address"
    const auto out = e.records(
        {ipfix(ipfix_message(0, 0, {template_set(true, 256, fields), data_set(256, records)}))});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].flags & wire::kFlowHasAddresses);
    EXPECT_EQ(out[0].src_port, 80);
}

TEST(FlowParse, TemplatesOfMostlyZeroLengthFieldsAreRefused) {
    FlowEngine e;
    std::vector<Field> sparse(100, Field{7, 0});
    sparse.push_back(Field{4, 1});
    std::vector<Field> few_zero = {{7, 0}, {11, 0}, {8, 4}, {12, 4}};  // as some exporters send
    e.run({ipfix(ipfix_message(0, 0, {template_set(true, 256, sparse)})),
           ipfix(ipfix_message(0, 0, {template_set(true, 257, few_zero)}))});
    EXPECT_EQ(rejected(e, TemplateRejected::kZeroLength), 1u);
    EXPECT_EQ(e.counters.templates_learned, 1u);
}

TEST(FlowParse, AnOptionsTemplateWithdrawalAtTheEndOfItsSet) {
    FlowEngine e;
    e.run({ipfix(ipfix_message(0, 0, {options_template_set(true, 300, {{149, 4}}, {{34, 4}})}))});
    ASSERT_EQ(e.counters.templates_learned, 1u);
    e.run({ipfix(ipfix_message(0, 0, {cat({be(3, 2), be(8, 2), be(300, 2), be(0, 2)})}))});
    EXPECT_EQ(e.counters.templates_withdrawn, 1u);
}

TEST(FlowParse, SamplingFromOptionsDataV9AndIpfix) {
    FlowEngine e;
    // v9: scope system (1, 4 bytes), options samplingInterval and samplingAlgorithm.
    const Bytes v9_options = options_template_set(false, 257, {{1, 4}}, {{34, 4}, {35, 1}});
    const auto v9_items =
        e.records({v9(v9_packet(0, 0, 0,
                                {v9_options, data_set(257, cat({be(0, 4), be(100, 4), be(2, 1)})),
                                 template_set(false, 258, {{7, 2}}), data_set(258, be(53, 2))}))});
    ASSERT_EQ(v9_items.size(), 2u);
    EXPECT_TRUE(v9_items[0].flags & wire::kFlowOptions);
    EXPECT_EQ(v9_items[1].sampling_interval, 100u);
    EXPECT_EQ(v9_items[1].sampling_algorithm, 2);
    // IPFIX: 1 packet sampled, 999 skipped: 1 in 1000.
    const Bytes ipfix_options = options_template_set(true, 300, {{149, 4}}, {{305, 4}, {306, 4}});
    const auto ipfix_items = e.records(
        {ipfix(ipfix_message(9, 0,
                             {ipfix_options, data_set(300, cat({be(9, 4), be(1, 4), be(999, 4)})),
                              template_set(true, 301, {{7, 2}}), data_set(301, be(53, 2))}))});
    ASSERT_EQ(ipfix_items.size(), 2u);
    EXPECT_EQ(ipfix_items[1].sampling_interval, 1000u);
    EXPECT_EQ(e.counters.sampling_updates, 2u);
}

TEST(FlowParse, HostileTemplatesAreRefusedWithTheirReason) {
    FlowEngine e;
    std::vector<Field> too_many(wire::kMaxTemplateFields + 1, Field{7, 2});
    e.run({ipfix(ipfix_message(0, 0, {template_set(true, 256, {{7, 0}, {11, 0}})})),
           ipfix(ipfix_message(0, 0, {template_set(true, 257, {{8, 3}})})),
           ipfix(ipfix_message(0, 0, {template_set(true, 258, too_many)})),
           ipfix(ipfix_message(0, 0, {template_set(true, 12, {{7, 2}})})),
           ipfix(ipfix_message(0, 0, {template_set(true, 259, {{82, 40000}, {83, 40000}})})),
           v9(v9_packet(0, 0, 0, {template_set(false, 260, {})}))});
    EXPECT_EQ(rejected(e, TemplateRejected::kZeroLength), 1u);
    EXPECT_EQ(rejected(e, TemplateRejected::kLengthMismatch), 1u);
    EXPECT_EQ(rejected(e, TemplateRejected::kTooManyFields), 1u);
    EXPECT_EQ(rejected(e, TemplateRejected::kReservedId), 1u);
    EXPECT_EQ(rejected(e, TemplateRejected::kRecordTooLong), 1u);
    EXPECT_EQ(rejected(e, TemplateRejected::kNoFields), 1u);
    EXPECT_EQ(e.counters.templates_learned, 0u);
    // A template record cut off by its set's end.
    e.run(
        {ipfix(ipfix_message(0, 0, {cat({be(2, 2), be(10, 2), be(261, 2), be(3, 2), be(7, 2)})}))});
    EXPECT_EQ(rejected(e, TemplateRejected::kTruncated), 1u);
}

TEST(FlowParse, BrokenDatagramsAreMalformedWithTheirReason) {
    struct Case {
        Datagram d;
        wire::FlowMalformed why;
    };
    Bytes bad_ipfix_length = ipfix_message(0, 0, {});
    bad_ipfix_length[3] = 200;
    const Bytes v5_count_past_end = cat({be(5, 2), be(30, 2), Bytes(20, 0), Bytes(48, 0)});
    const Bytes set_past_end = v9_packet(0, 0, 0, {cat({be(300, 2), be(400, 2), Bytes(8, 0)})});
    const Bytes short_set = v9_packet(0, 0, 0, {cat({be(300, 2), be(2, 2)})});
    const std::vector<Case> cases = {
        {ipfix(Bytes{0, 10, 0}), wire::FlowMalformed::kTruncatedHeader},
        {ipfix(bad_ipfix_length), wire::FlowMalformed::kBadLength},
        {Datagram{v5_count_past_end, wire::RecordKind::kNetflowV5},
         wire::FlowMalformed::kBadLength},
        {v9(set_past_end), wire::FlowMalformed::kBadSetLength},
        {v9(short_set), wire::FlowMalformed::kBadSetLength},
        {Datagram{ipfix_message(0, 0, {}), wire::RecordKind::kNetflowV9},
         wire::FlowMalformed::kBadVersion},
    };
    for (const Case &c : cases) {
        FlowEngine e;
        const auto items = e.run({c.d});
        const FlowDescriptor &done = packet_done(items);
        EXPECT_EQ(done.verdict, static_cast<uint8_t>(wire::Verdict::kMalformed));
        EXPECT_EQ(done.malformed_reason, static_cast<uint8_t>(c.why));
    }
}

TEST(FlowParse, ItemsPastTheCapacityAreCountedPerDatagram) {
    FlowEngine e;
    // 1-byte records: one datagram of 20000 records, more than a batch has items for.
    const Bytes records(20000, 6);
    const auto items = e.run(
        {ipfix(ipfix_message(0, 0, {template_set(true, 256, {{4, 1}}), data_set(256, records)}))});
    ASSERT_EQ(items.size(), wire::kMaxFlowItemsPerBatch);
    EXPECT_EQ(items.front().item, static_cast<uint8_t>(FlowItem::kTemplateLearned));
    const FlowDescriptor &done = items.back();
    EXPECT_EQ(done.item, static_cast<uint8_t>(FlowItem::kPacketDone));
    // Every item but the template's and the datagram's outcome is a record.
    EXPECT_EQ(done.items_lost, 20000u - (wire::kMaxFlowItemsPerBatch - 2));
    EXPECT_EQ(e.counters.items_output_full, done.items_lost);
    // Records are counted when returned; the rest of the set is counted lost without decoding it.
    EXPECT_EQ(e.counters.records, wire::kMaxFlowItemsPerBatch - 2);
    EXPECT_EQ(e.counters.records + e.counters.items_output_full, 20000u);
}

}  // namespace
}  // namespace tapsift::testing
