// FlowHandler: the template file is written at intervals, not only at shutdown, items no
// kernel could write are ignored and counted, never read past their datagram, and held sets keep
// the record numbers of their datagram.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <regex>
#include <thread>
#include <utility>

#include "flow_harness.hpp"
#include "flow_offload.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/embedded_broker.hpp"
#include "kafka/producer.hpp"
#include "offload_backend.hpp"
#include "pipeline/flow_handler.hpp"
#include "scripted_backend.hpp"

namespace tapsift::pipeline {
namespace {

using testing::Bytes;

kafka::Producer unconnected_producer() {
    // Never connects: produce() only queues, which is all these tests need.
    return kafka::Producer(kafka::ProducerConfig{
        "127.0.0.1:1", {{"log_level", "0"}}, kafka::QueueFullPolicy::kDrop, {}});
}

dataplane::IngestBatchBuilder batch_of(const Bytes &payload, wire::RecordKind kind) {
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    batch.add(dataplane::RecordMeta{addr, addr, 40000, 4739, kind, 0, 0, 0, 1, 1}, payload.data(),
              static_cast<uint32_t>(payload.size()));
    return batch;
}

// One flow batch through the backend, then through the handler (as BatchHandler does).
void offload(drivers::OffloadBackend &backend, FlowHandler &handler,
             const dataplane::IngestBatchBuilder &batch, Counters &c) {
    drivers::BatchResult result;
    backend.submit(drivers::BatchKind::kFlow, batch.data(), batch.size_bytes());
    ASSERT_TRUE(backend.collect(true, result));
    handler.handle(result, c, std::chrono::steady_clock::now());
}

// The host sifting stage with no rules: every record is kept.
struct NoRules {
    sift::RulesetSource source{sift::Ruleset::load(config::Config{})};
    sift::Sifter sifter{source};
};

// A handler on the cpu backend, as one lcore has it.
struct CpuFlowHandler {
    CpuFlowHandler(const config::Config &config, kafka::Producer &producer, uint32_t engine = 0)
        : cfg(config),
          backend(drivers::open_cpu_backend(drivers::BackendConfig{}, why)),
          handler(*backend, producer, cfg, engine, none.sifter) {}

    config::Config cfg;
    std::string why;
    std::unique_ptr<drivers::OffloadBackend> backend;
    NoRules none;
    FlowHandler handler;
    Counters c;
};

TEST(FlowHandler, TemplatesAreSavedAtIntervals) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tapsift-interval-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    config::Config cfg;
    cfg.flows.template_dir = dir.string();
    cfg.flows.template_save_interval_s = 1;
    auto producer = unconnected_producer();
    CpuFlowHandler h(cfg, producer, 3);
    offload(*h.backend, h.handler,
            batch_of(testing::ipfix_message(0, 0, {testing::template_set(true, 256, {{7, 2}})}),
                     wire::RecordKind::kIpfix),
            h.c);
    EXPECT_FALSE(std::filesystem::exists(dir / "templates-3.bin"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    offload(*h.backend, h.handler,
            batch_of(testing::ipfix_message(0, 0, {}), wire::RecordKind::kIpfix), h.c);
    EXPECT_TRUE(std::filesystem::exists(dir / "templates-3.bin"));
    EXPECT_EQ(h.c.flow.template_saves, 1u);
    std::filesystem::remove_all(dir);
}

// A restart: the saved templates go into the new engine before its first batch, and the host's
// copy continues in step with it (the next definition takes the engine's next generation).
TEST(FlowHandler, RestoredTemplatesAreLoadedIntoTheEngineAndTheMirrorStaysInStep) {
    using testing::be;
    using testing::cat;
    const auto dir =
        std::filesystem::temp_directory_path() / ("tapsift-restart-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    config::Config cfg;
    cfg.flows.template_dir = dir.string();
    auto producer = unconnected_producer();
    NoRules none;
    std::string why;
    {
        auto backend = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
        FlowHandler before(*backend, producer, cfg, 0, none.sifter);
        Counters c;
        offload(*backend, before,
                batch_of(testing::ipfix_message(
                             0, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})}),
                         wire::RecordKind::kIpfix),
                c);
        before.finish(c, std::chrono::steady_clock::now() + std::chrono::seconds(1));
        ASSERT_EQ(c.flow.template_saves, 1u);
    }
    auto backend = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    FlowHandler after(*backend, producer, cfg, 0, none.sifter);
    Counters c;
    offload(*backend, after,
            batch_of(testing::ipfix_message(0, 0,
                                            {testing::data_set(256, cat({be(80, 2), be(443, 2)}))}),
                     wire::RecordKind::kIpfix),
            c);
    EXPECT_EQ(c.flow.records, 1u);  // decoded by the engine, named by the host
    EXPECT_EQ(c.flow.sets_without_template, 0u);
    EXPECT_EQ(c.flow.named_by_core_fields, 0u);
    offload(*backend, after,
            batch_of(testing::ipfix_message(0, 0,
                                            {testing::template_set(true, 256, {{4, 1}}),
                                             testing::data_set(256, be(17, 1))}),
                     wire::RecordKind::kIpfix),
            c);
    EXPECT_EQ(c.flow.engine.templates_replaced, 1u);
    EXPECT_EQ(c.flow.records, 2u);
    EXPECT_EQ(c.flow.state_changes_out_of_step, 0u);
    EXPECT_EQ(c.flow.invalid_items, 0u);
    EXPECT_EQ(c.flow.named_by_core_fields, 0u);
    std::filesystem::remove_all(dir);
}

// A device that answers every flow batch with one item, whatever the batch holds.
wire::FlowDescriptor g_item;
uint32_t one_item(drivers::BatchKind, const uint8_t *, uint8_t *items) {
    std::memcpy(items, &g_item, sizeof g_item);
    return 1;
}

TEST(FlowHandler, AnItemOutsideItsDatagramIsIgnoredAndCounted) {
    testing::ScriptedBackend device(one_item);
    const auto backend = device.open();
    auto producer = unconnected_producer();
    NoRules none;
    FlowHandler handler(*backend, producer, config::Config{}, 0, none.sifter);
    g_item = wire::FlowDescriptor{};
    g_item.item = static_cast<uint8_t>(wire::FlowItem::kRecord);
    g_item.template_slot = wire::kNoTemplateSlot;
    g_item.record = wire::Span{10, 5000};  // the datagram is 16 bytes
    Counters c;
    offload(*backend, handler, batch_of(testing::ipfix_message(0, 0, {}), wire::RecordKind::kIpfix),
            c);
    EXPECT_EQ(c.flow.invalid_items, 1u);
    EXPECT_EQ(c.flow.records, 0u);
    // The datagram was never closed by the device: it is lost, and counted as such.
    EXPECT_EQ(c.dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
}

// (event.sequence, tapsift.flow_record) of each of the first `expected` events on the topic.
std::vector<std::pair<int, int>> record_numbers(const std::string &bootstrap,
                                                const std::string &topic, size_t expected) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "record-numbers", err, sizeof err);
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    const std::regex sequence("\"sequence\":(\\d+)"), record("\"flow_record\":(\\d+)");
    std::vector<std::pair<int, int>> out;
    for (int i = 0; i < 100 && out.size() < expected; ++i) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
        if (m == nullptr) continue;
        if (!m->err) {
            const std::string json(static_cast<const char *>(m->payload), m->len);
            std::smatch s, r;
            if (std::regex_search(json, s, sequence) && std::regex_search(json, r, record))
                out.emplace_back(std::stoi(s[1]), std::stoi(r[1]));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return out;
}

// A held set goes round as a datagram of its own, yet its records keep the numbers they have in
// their datagram: after the records decoded on arrival, and after those of the sets held with
// it, as tshark numbers them.
TEST(FlowHandler, HeldSetsKeepTheRecordNumbersOfTheirDatagram) {
    using testing::be;
    using testing::cat;
    kafka::EmbeddedBroker broker;
    const config::Config cfg;
    broker.create_topic(cfg.kafka.flows_topic, 1);
    kafka::Producer producer(
        kafka::ProducerConfig{broker.bootstrap(), {}, kafka::QueueFullPolicy::kDrop, {}});
    CpuFlowHandler h(cfg, producer);
    Counters &c = h.c;
    const auto datagram = [&](uint64_t seq, const Bytes &payload) {
        dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
        batch.add(testing::ipfix_meta(seq, 1000 + seq), payload.data(),
                  static_cast<uint32_t>(payload.size()));
        testing::offload_all(*h.backend, h.handler, batch, c);
    };
    const auto records = [](int n) {
        Bytes out;
        for (int i = 0; i < n; ++i) out = cat({out, be(1000 + i, 2)});
        return out;
    };
    datagram(1, testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}})}));
    // 2 records decoded on arrival, then 3 and 1 held for templates 257 and 258.
    datagram(2, testing::ipfix_message(
                    5, 0,
                    {testing::data_set(256, records(2)), testing::data_set(257, records(3)),
                     testing::data_set(258, records(1))}));
    EXPECT_EQ(c.flow.sets_held, 2u);
    datagram(3, testing::ipfix_message(5, 0,
                                       {testing::template_set(true, 257, {{11, 2}}),
                                        testing::template_set(true, 258, {{4, 2}})}));
    EXPECT_EQ(c.flow.sets_resolved, 2u);
    EXPECT_EQ(c.flow.produced, 6u);
    producer.drain(5000);
    auto got = record_numbers(broker.bootstrap(), cfg.kafka.flows_topic, 6);
    std::sort(got.begin(), got.end());
    const std::vector<std::pair<int, int>> want = {{2, 0}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {2, 5}};
    EXPECT_EQ(got, want);
}

// A held set is late only if its template was defined more than flows.pending_timeout_ms after
// it; a refresh of the template in the same batch (a later copy another gateway shared, say)
// does not make it late.
TEST(FlowHandler, ARefreshDoesNotMakeAHeldSetLate) {
    using testing::be;
    using testing::ipfix_meta;
    constexpr uint64_t kS = 1000000000;
    auto producer = unconnected_producer();
    CpuFlowHandler h(config::Config{}, producer);  // pending_timeout_ms 30000
    Counters &c = h.c;
    const auto run = [&](const dataplane::IngestBatchBuilder &batch) {
        testing::offload_all(*h.backend, h.handler, batch, c);
    };
    dataplane::IngestBatchBuilder data(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    const Bytes set = testing::ipfix_message(5, 0, {testing::data_set(256, be(80, 2))});
    data.add(ipfix_meta(1, kS), set.data(), static_cast<uint32_t>(set.size()));
    run(data);
    EXPECT_EQ(c.flow.sets_held, 1u);
    // Defined 20 s after the set, refreshed 35 s after it, in one batch.
    const Bytes tpl = testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}})});
    dataplane::IngestBatchBuilder templates(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    templates.add(ipfix_meta(2, 21 * kS), tpl.data(), static_cast<uint32_t>(tpl.size()));
    templates.add(ipfix_meta(3, 36 * kS), tpl.data(), static_cast<uint32_t>(tpl.size()));
    run(templates);
    EXPECT_EQ(c.flow.engine.templates_refreshed, 1u);
    EXPECT_EQ(c.flow.sets_resolved, 1u);
    EXPECT_EQ(c.flow.sets_expired, 0u);
    EXPECT_EQ(c.flow.records, 1u);
}

}  // namespace
}  // namespace tapsift::pipeline
