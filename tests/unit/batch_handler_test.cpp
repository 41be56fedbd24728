// The host side trusts no descriptor it could not have been given: a backend (a card, a broken
// xclbin) returning a span outside the record, a wrong index or an unknown verdict costs that
// record a counted backend_error, never a read outside the batch.
#include <gtest/gtest.h>

#include <cstring>

#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_handler.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::pipeline {
namespace {

// A backend that answers every record with the same descriptor, whatever the batch holds.
wire::Descriptor g_answer;

int fake_process(void *, const uint8_t *ingest, uint32_t, uint8_t *descriptors) {
    wire::IngestBatchHeader h;
    std::memcpy(&h, ingest, sizeof h);
    for (uint32_t i = 0; i < h.record_count; ++i) {
        wire::Descriptor d = g_answer;
        if (d.record_index == 0) d.record_index = i;
        std::memcpy(descriptors + i * wire::kDescriptorBytes, &d, sizeof d);
    }
    return static_cast<int>(h.record_count);
}
int fake_process_flows(void *, const uint8_t *, uint32_t, uint8_t *) {
    return 0;
}
hls_kernels::FlowParseCounters g_flow_counters;
bool fake_load_flow_state(void *, const wire::FlowParseState &) {
    return true;
}
const hls_kernels::FlowParseCounters *fake_flow_counters(void *) {
    return &g_flow_counters;
}
void fake_destroy(void *) {}
constexpr drivers::OffloadBackendOps kFakeOps = {
    "fake",      fake_process, fake_process_flows, fake_load_flow_state, fake_flow_counters,
    fake_destroy};

Counters run_one(const wire::Descriptor &answer) {
    g_answer = answer;
    // Never connects: produce() only queues, which is all this test needs.
    kafka::Producer producer(kafka::ProducerConfig{
        "127.0.0.1:1", {{"log_level", "0"}}, kafka::QueueFullPolicy::kDrop, {}});
    config::Config cfg;
    cfg.kafka.queue_full_timeout_ms = 0;
    const sift::RulesetSource rules(sift::Ruleset::load(cfg));
    BatchHandler handler(std::make_unique<drivers::OffloadBackend>(&kFakeOps, nullptr), producer,
                         cfg, "test", 0, rules);
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch);
    const uint8_t addr[16] = {};
    const std::string msg = "<13>Jan  1 00:00:00 host app: hello";
    batch.add(dataplane::RecordMeta{addr, addr, 1, 514, wire::RecordKind::kSyslog, 0, 0, 0, 0, 1},
              reinterpret_cast<const uint8_t *>(msg.data()), static_cast<uint32_t>(msg.size()));
    Counters c;
    handler.handle(batch, c);
    return c;
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

}  // namespace
}  // namespace tapsift::pipeline
