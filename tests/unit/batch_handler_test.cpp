// The host side trusts no descriptor it could not have been given: a backend (a card, a broken
// xclbin) returning a span outside the record, a wrong index or an unknown verdict costs that
// record a counted backend_error, never a read outside the batch.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_handler.hpp"
#include "scripted_backend.hpp"
#include "wire/descriptor.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::pipeline {
namespace {

// A device that answers every record with the same descriptor, whatever the batch holds.
wire::Descriptor g_answer;

uint32_t same_answer(drivers::BatchKind, const uint8_t *ingest, uint8_t *descriptors) {
    wire::IngestBatchHeader h;
    std::memcpy(&h, ingest, sizeof h);
    for (uint32_t i = 0; i < h.record_count; ++i) {
        wire::Descriptor d = g_answer;
        if (d.record_index == 0) d.record_index = i;
        std::memcpy(descriptors + i * wire::kDescriptorBytes, &d, sizeof d);
    }
    return h.record_count;
}

// One batch through a BatchHandler whose device answers as `device` does, ending with status.
Counters handle_one(testing::ScriptedBackend::Device device, drivers::BatchStatus status,
                    const dataplane::IngestBatchBuilder &batch, uint64_t rx_packets = 0) {
    testing::ScriptedBackend backend(std::move(device));
    backend.status = status;
    // Never connects: produce() only queues, which is all this test needs.
    kafka::Producer producer(kafka::ProducerConfig{
        "127.0.0.1:1", {{"log_level", "0"}}, kafka::QueueFullPolicy::kDrop, {}});
    config::Config cfg;
    cfg.kafka.queue_full_timeout_ms = 0;
    const sift::RulesetSource rules(sift::Ruleset::load(cfg));
    BatchHandler handler(backend.open(), producer, cfg, "test", 0, rules);
    Counters c;
    c.rx_packets = rx_packets;  // as the RX loop would have counted the batch's datagrams
    handler.handle(batch, c);
    handler.finish(c);
    return c;
}

Counters run_one(const wire::Descriptor &answer,
                 drivers::BatchStatus status = drivers::BatchStatus::kDone) {
    g_answer = answer;
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch);
    const uint8_t addr[16] = {};
    const std::string msg = "<13>Jan  1 00:00:00 host app: hello";
    batch.add(dataplane::RecordMeta{addr, addr, 1, 514, wire::RecordKind::kSyslog, 0, 0, 0, 0, 1},
              reinterpret_cast<const uint8_t *>(msg.data()), static_cast<uint32_t>(msg.size()));
    return handle_one(same_answer, status, batch);
}

wire::Descriptor good() {
    wire::Descriptor d{};
    d.verdict = static_cast<uint8_t>(wire::Verdict::kForward);
    d.priority = 13;
    d.message = wire::Span{30, 5};
    return d;
}

TEST(BatchHandler, AGoodDescriptorBecomesAnEvent) {
    const Counters c = run_one(good());
    EXPECT_EQ(c.produced, 1u);
    EXPECT_EQ(c.dropped_total(), 0u);
}

TEST(BatchHandler, ASpanPastThePayloadIsABackendError) {
    wire::Descriptor d = good();
    d.message = wire::Span{30, 60000};
    const Counters c = run_one(d);
    EXPECT_EQ(c.produced, 0u);
    EXPECT_EQ(c.dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
}

TEST(BatchHandler, AWrongIndexOrUnknownVerdictIsABackendError) {
    wire::Descriptor wrong_index = good();
    wrong_index.record_index = 7;
    EXPECT_EQ(run_one(wrong_index).dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
    wire::Descriptor unknown_verdict = good();
    unknown_verdict.verdict = 9;
    EXPECT_EQ(run_one(unknown_verdict).dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
    wire::Descriptor unknown_reason = good();
    unknown_reason.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
    unknown_reason.malformed_reason = 77;
    EXPECT_EQ(run_one(unknown_reason).dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
}

TEST(BatchHandler, AFailedOrTimedOutRunLosesItsRecordsCounted) {
    const Counters failed = run_one(good(), drivers::BatchStatus::kDeviceError);
    EXPECT_EQ(failed.produced, 0u);
    EXPECT_EQ(failed.dropped[static_cast<size_t>(Dropped::kBackendError)], 1u);
    const Counters timed_out = run_one(good(), drivers::BatchStatus::kTimedOut);
    EXPECT_EQ(timed_out.produced, 0u);
    EXPECT_EQ(timed_out.dropped[static_cast<size_t>(Dropped::kBackendTimeout)], 1u);
    EXPECT_EQ(timed_out.dropped_total(), 1u) << "lost once, under one reason";
}

// The host side of sFlow (SflowHandler) trusts no item it could not have been given either:
// samples become events and datagrams end decoded or malformed, each once; an item naming no
// datagram of the batch, or a datagram closed twice, is ignored and counted; a datagram the
// device never closed (a short batch, a failed or timed-out run) is lost, counted.

// What the device answers every sFlow batch with.
std::vector<wire::SflowSample> g_items;

uint32_t scripted_items(drivers::BatchKind kind, const uint8_t *, uint8_t *output) {
    EXPECT_EQ(kind, drivers::BatchKind::kSflow);
    for (size_t k = 0; k < g_items.size(); ++k)
        std::memcpy(output + k * wire::kSflowItemBytes, &g_items[k], sizeof g_items[k]);
    return static_cast<uint32_t>(g_items.size());
}

// One sFlow batch of `datagrams` datagrams through the BatchHandler, the device answering items.
Counters run_sflow(const std::vector<wire::SflowSample> &items, uint32_t datagrams = 1,
                   drivers::BatchStatus status = drivers::BatchStatus::kDone) {
    g_items = items;
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kSflow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const uint8_t datagram[28] = {0, 0, 0, 5};
    for (uint32_t i = 0; i < datagrams; ++i) {
        batch.add(dataplane::RecordMeta{addr, addr, 6343, 6343, wire::RecordKind::kSflowV5, 0, 0, 0,
                                        0, i + 1},
                  datagram, sizeof datagram);
    }
    return handle_one(scripted_items, status, batch, datagrams);
}

wire::SflowSample sample(uint32_t record, wire::SflowItem item = wire::SflowItem::kFlowSample) {
    wire::SflowSample s{};
    s.record_index = record;
    s.item = static_cast<uint8_t>(item);
    s.verdict = static_cast<uint8_t>(wire::Verdict::kForward);
    s.rule_id = wire::kNoRule;
    s.sampling_rate = 1;
    return s;
}

wire::SflowSample done(uint32_t record, wire::SflowMalformed why = wire::SflowMalformed::kNone) {
    wire::SflowSample s = sample(record, wire::SflowItem::kDatagramDone);
    if (why != wire::SflowMalformed::kNone) {
        s.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
        s.malformed_reason = static_cast<uint8_t>(why);
    }
    return s;
}

TEST(SflowHandler, SamplesBecomeEventsAndTheDatagramIsDecoded) {
    const Counters c = run_sflow({sample(0), sample(0, wire::SflowItem::kCounterSample), done(0)});
    EXPECT_EQ(c.sflow_packets, 1u);
    EXPECT_EQ(c.sflow.samples, 2u);
    EXPECT_EQ(c.sflow.flow_samples, 1u);
    EXPECT_EQ(c.sflow.counter_samples, 1u);
    EXPECT_EQ(c.sflow.produced, 2u);
    EXPECT_TRUE(c.balanced());
}

TEST(SflowHandler, AMalformedDatagramKeepsTheSamplesBeforeTheFault) {
    const Counters c = run_sflow({sample(0), done(0, wire::SflowMalformed::kBadAgentType)});
    EXPECT_EQ(c.sflow_packets, 0u);
    EXPECT_EQ(c.malformed[static_cast<size_t>(Malformed::kSflowBadAgentType)], 1u);
    EXPECT_EQ(c.sflow.produced, 1u);
    EXPECT_TRUE(c.balanced());
}

TEST(SflowHandler, AnItemNoKernelCouldWriteIsIgnoredAndCounted) {
    wire::SflowSample bad_reason = done(1);
    bad_reason.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
    bad_reason.malformed_reason = static_cast<uint8_t>(wire::SflowMalformed::kCount);
    wire::SflowSample bad_verdict = sample(0);
    bad_verdict.verdict = 9;
    const Counters c =
        run_sflow({sample(7), bad_verdict, done(0), sample(0), done(0), bad_reason, done(1)}, 2);
    // sample(7): no such datagram; a sample of datagram 0 after it closed; datagram 0 closed again.
    EXPECT_EQ(c.sflow.invalid_items, 5u);
    EXPECT_EQ(c.sflow_packets, 2u);
    EXPECT_EQ(c.sflow.samples, 0u);
    EXPECT_TRUE(c.balanced());
}

TEST(SflowHandler, ADatagramTheDeviceNeverClosedIsLostCounted) {
    Counters c = run_sflow({sample(0), done(0)}, 3);
    EXPECT_EQ(c.sflow_packets, 1u);
    EXPECT_EQ(c.dropped[static_cast<size_t>(Dropped::kBackendError)], 2u);
    EXPECT_TRUE(c.balanced());
    c = run_sflow({sample(0), done(0)}, 2, drivers::BatchStatus::kTimedOut);
    EXPECT_EQ(c.dropped[static_cast<size_t>(Dropped::kBackendTimeout)], 2u);
    EXPECT_EQ(c.sflow.samples, 0u) << "a timed-out run's items are not read";
    EXPECT_TRUE(c.balanced());
}

}  // namespace
}  // namespace tapsift::pipeline
