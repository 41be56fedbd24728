// The host side of flows: held data sets, the template file, and how records become events.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "event/flow_event.hpp"
#include "flow/pending_sets.hpp"
#include "flow/template_file.hpp"
#include "flow_harness.hpp"
#include "flow_parse/template_store.hpp"

namespace tapsift::testing {
namespace {

wire::IngestRecordHeader datagram_header(uint8_t last_octet, wire::RecordKind kind,
                                         int64_t arrival_ns, uint16_t payload_len) {
    wire::IngestRecordHeader h{};
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, last_octet};
    std::memcpy(h.src_addr, addr, 16);
    h.kind = static_cast<uint8_t>(kind);
    h.arrival_ns = static_cast<uint64_t>(arrival_ns);
    h.payload_len = payload_len;
    h.src_port = 40000;
    h.packet_seq = 9;
    return h;
}

TEST(PendingSets, BudgetsPerExporterAndInTotal) {
    flow::PendingSets pending({200, 120, 1000});
    const Bytes payload = ipfix_message(0, 0, {data_set(300, Bytes(36, 1))});  // 16 + 40 bytes
    const wire::Span set{16, 40};
    const auto a = datagram_header(1, wire::RecordKind::kIpfix, 0, 56);
    const auto b = datagram_header(2, wire::RecordKind::kIpfix, 0, 56);
    EXPECT_TRUE(pending.hold(a, payload.data(), set, 0));
    EXPECT_TRUE(pending.hold(a, payload.data(), set, 0));
    EXPECT_FALSE(pending.hold(a, payload.data(), set, 0));  // 168 > 120 for exporter 1
    EXPECT_TRUE(pending.hold(b, payload.data(), set, 0));
    EXPECT_FALSE(pending.hold(b, payload.data(), set, 0));  // 224 > 200 in total
    EXPECT_EQ(pending.size(), 3u);
    EXPECT_EQ(pending.bytes(), 168u);
}

TEST(PendingSets, ResubmittedDatagramsHoldOneSetAndExpireByPacketTime) {
    flow::PendingSets pending({1 << 20, 1 << 20, 1000});
    const Bytes set = data_set(300, Bytes(12, 7));
    const Bytes payload = ipfix_message(5, 77, {template_set(true, 299, {{7, 2}}), set});
    const auto h =
        datagram_header(1, wire::RecordKind::kIpfix, 5000, static_cast<uint16_t>(payload.size()));
    ASSERT_TRUE(pending.hold(h, payload.data(),
                             wire::Span{static_cast<uint16_t>(payload.size() - set.size()),
                                        static_cast<uint16_t>(set.size())},
                             3));
    dataplane::IngestBatchBuilder batch(8, dataplane::Engine::kFlow);
    std::vector<uint32_t> first_records;
    ASSERT_EQ(
        pending.move_ready(
            batch,
            [](const flow::PendingSets::Key &k) { return k.template_id == 300 && k.domain == 5; },
            first_records),
        1u);
    EXPECT_EQ(first_records, std::vector<uint32_t>{3});  // its records are numbered from 3 on
    EXPECT_TRUE(pending.empty());
    wire::IngestRecordHeader rec;
    std::memcpy(&rec, batch.data() + wire::kBeatBytes, sizeof rec);
    EXPECT_TRUE(rec.flags & wire::kRecordResubmitted);
    EXPECT_EQ(rec.payload_len, 16 + set.size());
    EXPECT_EQ(rec.packet_seq, 9u);
    const uint8_t *p = batch.data() + 2 * wire::kBeatBytes;
    EXPECT_EQ((p[2] << 8) | p[3], 16 + set.size());            // IPFIX length rewritten
    EXPECT_EQ(std::memcmp(p + 4, payload.data() + 4, 12), 0);  // export time, domain kept
    EXPECT_EQ(std::memcmp(p + 16, set.data(), set.size()), 0);

    ASSERT_TRUE(pending.hold(h, payload.data(), wire::Span{16, 4}, 0));
    EXPECT_EQ(pending.expire(5000 + 1000), 0u);
    EXPECT_EQ(pending.expire(5000 + 1001), 1u);
    EXPECT_EQ(pending.bytes(), 0u);
}

std::string temp_dir(const char *name) {
    const auto dir = std::filesystem::temp_directory_path() /
                     (std::string("tapsift-") + name + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

TEST(TemplateFile, SavedTemplatesDecodeAfterARestart) {
    const std::string dir = temp_dir("templates");
    FlowEngine before;
    before.run({ipfix(ipfix_message(3, 0, {template_set(true, 256, {{7, 2}, {11, 2}})})),
                v9(v9_packet(4, 0, 0, {template_set(false, 257, {{4, 1}})}))});
    std::string why;
    ASSERT_TRUE(flow::save_templates(flow::template_file_path(dir, 0), *before.state, why)) << why;

    FlowEngine after;
    const flow::RestoreResult r = flow::restore_templates(dir, *after.state);
    EXPECT_EQ(r.templates, 2u);
    EXPECT_EQ(r.files, 1u);
    const auto records =
        after.records({ipfix(ipfix_message(3, 0, {data_set(256, cat({be(80, 2), be(443, 2)}))})),
                       v9(v9_packet(4, 0, 0, {data_set(257, be(17, 1))}))});
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].dst_port, 443);
    EXPECT_EQ(records[1].protocol, 17);
    EXPECT_EQ(after.counters.sets_without_template, 0u);
    std::filesystem::remove_all(dir);
}

TEST(TemplateFile, ACorruptFileIsSkippedWhole) {
    const std::string dir = temp_dir("corrupt");
    FlowEngine before;
    before.run({ipfix(ipfix_message(3, 0, {template_set(true, 256, {{7, 2}})}))});
    std::string why;
    const std::string path = flow::template_file_path(dir, 0);
    ASSERT_TRUE(flow::save_templates(path, *before.state, why));
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(40);
        f.put('\x5a');
    }
    FlowEngine after;
    const flow::RestoreResult r = flow::restore_templates(dir, *after.state);
    EXPECT_EQ(r.templates, 0u);
    EXPECT_EQ(r.bad_files, 1u);
    std::filesystem::remove_all(dir);
}

// Runs one datagram through the kernel and assembles the event for its first record.
std::string event_for(const Datagram &d, event::FlowEventContext ctx = {}) {
    FlowEngine e;
    const auto items = e.records({d});
    if (items.empty()) return "";
    const wire::FlowDescriptor &item = items.front();
    auto h = datagram_header(d.exporter[3], d.kind, d.arrival_ns,
                             static_cast<uint16_t>(d.payload.size()));
    h.packet_seq = 1;
    const wire::TemplateField *fields = wire::kNetflowV5Template;
    uint32_t count = wire::kNetflowV5Fields;
    if (item.template_slot != wire::kNoTemplateSlot) {
        fields = e.state->templates[item.template_slot].fields;
        count = e.state->templates[item.template_slot].field_count;
    }
    const event::FlowRecordView view{h, d.payload.data(), item, fields, count, 0, false};
    std::string json;
    ctx.created = "2026-01-01T00:00:00.000Z";
    event::assemble_flow_event(view, "192.0.2.1", ctx, json);
    return json;
}

TEST(FlowEvent, FieldsAreNamedAfterTheIanaRegistry) {
    const std::vector<Field> fields = {
        {8, 4},  {12, 4},       {7, 2},           {11, 2},  {4, 1},   {1, 8},   {56, 6},
        {82, 8}, {1, 4, 29305}, {9999, 2, 35632}, {202, 4}, {202, 4}, {152, 8}, {153, 8}};
    const Bytes record = cat({be(0xc0000201, 4), be(0xc6336401, 4), be(5353, 2), be(53, 2),
                              be(17, 1), be(1000, 8), Bytes{0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc},
                              Bytes{'e', 't', 'h', '0', 0, 0, 0, 0}, be(77, 4), be(0xbeef, 2),
                              be(1, 4), be(2, 4), be(1700000000000, 8), be(1700000001500, 8)});
    const std::string json = event_for(ipfix(
        ipfix_message(42, 1700000002, {template_set(true, 256, fields), data_set(256, record)})));
    for (
        const char *want : {
            R"("source":{"ip":"192.0.2.1","port":5353,"bytes":1000,"packets":0})",
            R"("destination":{"ip":"198.51.100.1","port":53})",
            R"("transport":"udp","iana_number":"17")",
            R"("source_ipv4_address":"192.0.2.1")",
            R"("octet_delta_count":1000)",
            R"("source_mac_address":"00:1b:21:aa:bb:cc")",
            R"("interface_name":"eth0")",
            R"("reverse_octet_delta_count":77)",
            R"("unknown":{"35632_9999":"beef"})",
            R"("mpls_label_stack_depth":[1,2])",
            R"("start":"2023-11-14T22:13:20.000Z","end":"2023-11-14T22:13:21.500Z","duration":1500000000)",
            R"("exporter":{"address":"192.0.2.1:40000","source_id":42,"version":10)",
            R"("template_id":256)",
        }) {
        EXPECT_NE(json.find(want), std::string::npos) << want << "\n" << json;
    }
}

TEST(FlowEvent, SamplingOverrideAndScaling) {
    const std::map<std::string, uint32_t> overrides = {{"192.0.2.1", 100}};
    event::FlowEventContext ctx;
    ctx.sampling_overrides = &overrides;
    ctx.scale_sampled_counts = true;
    const std::string json = event_for(
        ipfix(ipfix_message(0, 0,
                            {template_set(true, 256, {{8, 4}, {12, 4}, {1, 4}, {2, 4}}),
                             data_set(256, cat({be(1, 4), be(2, 4), be(50, 4), be(3, 4)}))})),
        ctx);
    EXPECT_NE(json.find(R"("bytes":5000,"packets":300)"), std::string::npos) << json;
    EXPECT_NE(json.find(R"("octet_delta_count":50)"), std::string::npos) << json;
    EXPECT_NE(
        json.find(R"("sampling":{"interval":100,"algorithm":0,"source":"config","scaled":true})"),
        std::string::npos)
        << json;
}

}  // namespace
}  // namespace tapsift::testing
