// Flow batches in flight together: the host handles each in submission order, with its copy of
// the engine's templates as the engine was after that batch, while the batches behind it have
// already run. Held sets must still find their template, and go round only as often as the
// templates that arrive allow.
#include <gtest/gtest.h>

#include <cstring>

#include "flow_harness.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_handler.hpp"
#include "scripted_backend.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::pipeline {
namespace {

using testing::be;
using testing::Bytes;
using testing::cat;

constexpr uint32_t kRingSlots = 3;

// The cpu backend's kernels as the device of a ring whose batches finish only when waited for:
// the engine runs every batch at submit, in order, long before the host collects it.
struct Card {
    std::unique_ptr<drivers::OffloadBackend> engine;
    uint32_t resubmitted_batches = 0;
    // Resubmitted sets: answered "still no template" whatever the engine knows (a device out of
    // step with the host's copy).
    bool lie_about_resubmitted = false;
    testing::ScriptedBackend ring{[this](drivers::BatchKind kind, const uint8_t *ingest,
                                         uint8_t *output) { return run(kind, ingest, output); },
                                  kRingSlots};

    Card() {
        std::string why;
        engine = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    }

    uint32_t run(drivers::BatchKind kind, const uint8_t *ingest, uint8_t *output) {
        wire::IngestBatchHeader h;
        std::memcpy(&h, ingest, sizeof h);
        wire::IngestRecordHeader first;
        std::memcpy(&first, ingest + wire::kBeatBytes, sizeof first);
        const bool resubmitted = h.record_count > 0 && (first.flags & wire::kRecordResubmitted);
        if (resubmitted) resubmitted_batches++;
        if (resubmitted && lie_about_resubmitted) return still_held(ingest, output);
        drivers::BatchResult r;
        if (!engine->run_one(kind, ingest, h.total_beats * wire::kBeatBytes, r)) return 0;
        std::memcpy(output, r.output, size_t{r.outputs} * wire::kDescriptorBytes);
        return r.outputs;
    }

    // Each record (a datagram header and one set): the set held again, then the datagram closed.
    static uint32_t still_held(const uint8_t *ingest, uint8_t *output) {
        wire::IngestBatchHeader h;
        std::memcpy(&h, ingest, sizeof h);
        uint32_t n = 0;
        uint32_t beat = 1;
        for (uint32_t i = 0; i < h.record_count; ++i) {
            wire::IngestRecordHeader rec;
            std::memcpy(&rec, ingest + size_t{beat} * wire::kBeatBytes, sizeof rec);
            beat += 1 + wire::payload_beats(rec.payload_len);
            wire::FlowDescriptor d{};
            d.record_index = i;
            d.item = static_cast<uint8_t>(wire::FlowItem::kPendingSet);
            d.template_slot = wire::kNoTemplateSlot;
            d.record = wire::Span{wire::kIpfixHeaderBytes,
                                  static_cast<uint16_t>(rec.payload_len - wire::kIpfixHeaderBytes)};
            std::memcpy(output + size_t{n++} * wire::kDescriptorBytes, &d, sizeof d);
            d.item = static_cast<uint8_t>(wire::FlowItem::kPacketDone);
            d.record = wire::Span{0, 0};
            std::memcpy(output + size_t{n++} * wire::kDescriptorBytes, &d, sizeof d);
        }
        return n;
    }
};

dataplane::IngestBatchBuilder batch_of(const Bytes &payload) {
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    batch.add(
        dataplane::RecordMeta{addr, addr, 40000, 4739, wire::RecordKind::kIpfix, 0, 0, 0, 1, 1},
        payload.data(), static_cast<uint32_t>(payload.size()));
    return batch;
}

const Bytes kTemplate = testing::ipfix_message(0, 0, {testing::template_set(true, 256, {{7, 2}})});
const Bytes kData = testing::ipfix_message(0, 0, {testing::data_set(256, be(443, 2))});
const Bytes kWithdrawal = testing::ipfix_message(0, 0, {testing::template_set(true, 256, {})});

// Every batch is submitted before the first is collected (the ring holds them all).
Counters offload_all(Card &card, const std::vector<Bytes> &datagrams) {
    kafka::Producer producer(kafka::ProducerConfig{
        "127.0.0.1:1", {{"log_level", "0"}}, kafka::QueueFullPolicy::kDrop, {}});
    config::Config cfg;
    cfg.kafka.queue_full_timeout_ms = 0;
    const sift::RulesetSource rules(sift::Ruleset::load(cfg));
    BatchHandler handler(card.ring.open(), producer, cfg, "test", 0, rules);
    Counters c;
    for (const Bytes &d : datagrams) handler.handle(batch_of(d), c);
    handler.finish(c);
    return c;
}

TEST(FlowRing, TheHostCollectsOnlyWhenTheRingIsFullOrDrained) {
    Card card;
    const Counters c = offload_all(card, {kTemplate, kData, kData, kData});
    EXPECT_EQ(c.offload.ring_full, 1u) << "the fourth batch waited for the first";
    EXPECT_EQ(c.offload.batches, 4u);
    EXPECT_EQ(c.flow.records, 3u);
}

// The template is learned in the first batch; the data behind it ran in the engine before the
// host saw the template, and is still named from the host's copy.
TEST(FlowRing, RecordsBehindATemplateStillInFlightAreNamed) {
    Card card;
    const Counters c = offload_all(card, {kTemplate, kData});
    EXPECT_EQ(c.flow.records, 1u);
    EXPECT_EQ(c.flow.produced, 1u);
    EXPECT_EQ(c.flow.sets_without_template, 0u);
    EXPECT_EQ(c.flow.named_by_core_fields, 0u);
    EXPECT_EQ(c.flow.state_changes_out_of_step, 0u);
}

// The set is held when its batch is collected, after the template's batch has already run: the
// template's batch sends it round again, and it decodes.
TEST(FlowRing, ASetHeldWhileItsTemplateWasInFlightIsResolved) {
    Card card;
    const Counters c = offload_all(card, {kData, kTemplate});
    EXPECT_EQ(c.flow.sets_held, 1u);
    EXPECT_EQ(c.flow.sets_resolved, 1u);
    EXPECT_EQ(c.flow.sets_unresolved, 0u);
    EXPECT_EQ(c.flow.records, 1u);
    EXPECT_EQ(c.flow.named_by_core_fields, 0u);
    EXPECT_EQ(card.resubmitted_batches, 1u);
}

// The template comes and is withdrawn by a batch already in flight behind it: the set sent round
// for it runs after the withdrawal, comes back held, and is not sent again.
TEST(FlowRing, ASetWhoseTemplateIsWithdrawnBehindItComesBackHeld) {
    Card card;
    const Counters c = offload_all(card, {kData, kTemplate, kWithdrawal});
    EXPECT_EQ(card.engine->counters().flow.templates_withdrawn, 1u);
    EXPECT_EQ(card.resubmitted_batches, 1u);
    EXPECT_EQ(c.flow.sets_held, 1u);
    EXPECT_EQ(c.flow.sets_resolved, 0u);
    EXPECT_EQ(c.flow.sets_unresolved, 1u) << "still held at shutdown";
    EXPECT_EQ(c.flow.records, 0u);
    EXPECT_EQ(c.flow.state_changes_out_of_step, 0u);
}

// A device that keeps answering "no template" for a set the host's copy says it has: the set
// goes round once for the template that came, then waits (no endless resubmission).
TEST(FlowRing, ASetGoesRoundOncePerTemplateArrivalEvenIfTheDeviceDisagrees) {
    Card card;
    card.lie_about_resubmitted = true;
    const Counters c = offload_all(card, {kData, kTemplate});
    EXPECT_EQ(card.resubmitted_batches, 1u);
    EXPECT_EQ(c.flow.sets_held, 1u);
    EXPECT_EQ(c.flow.sets_unresolved, 1u);
}

}  // namespace
}  // namespace tapsift::pipeline
