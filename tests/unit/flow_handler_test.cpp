// FlowHandler: the template file is written at intervals, not only at shutdown, and items no
// kernel could write are ignored and counted, never read past their datagram.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "flow_harness.hpp"
#include "ingest_batch_builder.hpp"
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

TEST(FlowHandler, TemplatesAreSavedAtIntervals) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tapsift-interval-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    config::Config cfg;
    cfg.flows.template_dir = dir.string();
    cfg.flows.template_save_interval_s = 1;
    std::string why;
    auto backend = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    auto producer = unconnected_producer();
    NoRules none;
    FlowHandler handler(*backend, producer, cfg, 3, none.sifter);
    Counters c;
    offload(*backend, handler,
            batch_of(testing::ipfix_message(0, 0, {testing::template_set(true, 256, {{7, 2}})}),
                     wire::RecordKind::kIpfix),
            c);
    EXPECT_FALSE(std::filesystem::exists(dir / "templates-3.bin"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    offload(*backend, handler, batch_of(testing::ipfix_message(0, 0, {}), wire::RecordKind::kIpfix),
            c);
    EXPECT_TRUE(std::filesystem::exists(dir / "templates-3.bin"));
    EXPECT_EQ(c.flow.template_saves, 1u);
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

}  // namespace
}  // namespace tapsift::pipeline
