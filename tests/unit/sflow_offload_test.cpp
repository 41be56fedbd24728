// sFlow through the offload boundary: an sFlow batch submitted to a backend runs sflow_parse and
// the prefilter inside flow_sift (cpu backend, and the xrt backend on the emulated card), and the
// host's sifter decides each sample as a flow record.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ingest_batch_builder.hpp"
#include "offload_backend.hpp"
#include "prefilter/prefilter.hpp"
#include "sflow_corpus.hpp"
#include "sflow_parse/sflow_parse.hpp"
#include "sift/ruleset.hpp"
#include "sift/sifter.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift {
namespace {

using Batches = std::vector<std::unique_ptr<dataplane::IngestBatchBuilder>>;

// The corpus as the RX loop packs it: sFlow batches of at most 64 datagrams.
Batches corpus_batches() {
    const auto corpus = testing::load_sflow_corpus(std::string(TAPSIFT_TEST_CORPUS) + "/sflow");
    Batches out;
    for (const auto &dg : corpus) {
        if (out.empty() || out.back()->records() == 64)
            out.push_back(std::make_unique<dataplane::IngestBatchBuilder>(
                wire::kMaxRecordsPerBatch, dataplane::Engine::kSflow));
        const uint8_t collector[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9};
        const dataplane::RecordMeta meta{dg.src_addr,
                                         collector,
                                         dg.src_port,
                                         testing::kSflowPort,
                                         wire::RecordKind::kSflowV5,
                                         0,
                                         0,
                                         0,
                                         1,
                                         dg.frame};
        EXPECT_TRUE(out.back()->add(meta, dg.bytes.data(), static_cast<uint32_t>(dg.bytes.size())));
    }
    return out;
}

// What the decoder alone makes of the batches: samples per batch (not counting closing items).
std::vector<uint32_t> decoder_samples(const Batches &batches) {
    const auto corpus = testing::load_sflow_corpus(std::string(TAPSIFT_TEST_CORPUS) + "/sflow");
    std::vector<uint32_t> out(batches.size(), 0);
    std::vector<wire::SflowSample> samples(wire::kMaxSflowSamplesPerDatagram);
    hls_kernels::SflowParseCounters counters{};
    for (size_t i = 0; i < corpus.size(); ++i) {
        wire::SflowMalformed why;
        uint32_t lost = 0;
        out[i / 64] += hls_kernels::sflow_decode_datagram(
            corpus[i].bytes.data(), static_cast<uint32_t>(corpus[i].bytes.size()),
            wire::SflowSample{}, samples.data(), wire::kMaxSflowSamplesPerDatagram, &why, &lost,
            counters);
    }
    return out;
}

wire::SflowSample item_at(const drivers::BatchResult &r, uint32_t k) {
    wire::SflowSample s;
    std::memcpy(&s, r.output + size_t{k} * wire::kSflowItemBytes, sizeof s);
    return s;
}

// Every batch's items, in order, as bytes.
std::vector<std::vector<uint8_t>> run(drivers::OffloadBackend &b, const Batches &batches) {
    std::vector<std::vector<uint8_t>> out;
    for (const auto &batch : batches) {
        drivers::BatchResult r;
        EXPECT_TRUE(b.run_one(drivers::BatchKind::kSflow, batch->data(), batch->size_bytes(), r));
        EXPECT_EQ(r.kind, drivers::BatchKind::kSflow);
        out.emplace_back(r.output, r.output + size_t{r.outputs} * wire::kSflowItemBytes);
    }
    return out;
}

std::shared_ptr<const sift::Ruleset> ruleset(const std::string &yaml) {
    return sift::Ruleset::load(config::load_config_string(yaml, "test.yaml"));
}

TEST(SflowOffload, CpuBackendDecodesAnSflowBatchInFlowSift) {
    std::string why;
    auto b = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    ASSERT_NE(b, nullptr) << why;
    const Batches batches = corpus_batches();
    const std::vector<uint32_t> want = decoder_samples(batches);
    uint32_t datagrams = 0;
    for (size_t i = 0; i < batches.size(); ++i) {
        drivers::BatchResult r;
        ASSERT_TRUE(b->run_one(drivers::BatchKind::kSflow, batches[i]->data(),
                               batches[i]->size_bytes(), r));
        // One item per sample, then one closing each datagram.
        EXPECT_EQ(r.outputs, want[i] + batches[i]->records()) << "batch " << i;
        for (uint32_t k = 0; k < r.outputs; ++k) {
            const wire::SflowSample s = item_at(r, k);
            if (s.item == static_cast<uint8_t>(wire::SflowItem::kDatagramDone)) continue;
            EXPECT_EQ(s.verdict, static_cast<uint8_t>(wire::Verdict::kForward));
            EXPECT_EQ(s.rule_id, wire::kNoRule);
        }
        datagrams += batches[i]->records();
    }
    EXPECT_EQ(b->counters().sflow.datagrams, datagrams);
    EXPECT_EQ(b->counters().flow.packets, 0u) << "flow_parse did not see the sFlow batches";
    EXPECT_EQ(b->counters().prefilter.records,
              b->counters().sflow.flow_samples + b->counters().sflow.counter_samples);
}

TEST(SflowOffload, ARuleDropsSamplesInTheKernelAsFlowRecords) {
    std::string why;
    auto b = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    ASSERT_NE(b, nullptr) << why;
    const auto rules = ruleset(
        "sift:\n  rules:\n    - {id: no-udp, match: {kind: flow, protocol: udp}, action: drop}\n");
    ASSERT_TRUE(b->load_tables(rules->image(), rules->image_bytes()));
    uint32_t udp = 0, other = 0;
    for (const auto &batch : corpus_batches()) {
        drivers::BatchResult r;
        ASSERT_TRUE(b->run_one(drivers::BatchKind::kSflow, batch->data(), batch->size_bytes(), r));
        for (uint32_t k = 0; k < r.outputs; ++k) {
            const wire::SflowSample s = item_at(r, k);
            if (s.item == static_cast<uint8_t>(wire::SflowItem::kDatagramDone)) continue;
            const bool is_udp = (s.flags & wire::kSflowHasIp) && s.protocol == 17;
            (is_udp ? udp : other)++;
            EXPECT_EQ(s.verdict, static_cast<uint8_t>(is_udp ? wire::Verdict::kFiltered
                                                             : wire::Verdict::kForward));
            EXPECT_EQ(s.rule_id, is_udp ? 0 : wire::kNoRule);
        }
    }
    EXPECT_GT(udp, 0u);
    EXPECT_GT(other, 0u);
}

// The prefilter kernel's verdict, then the host's decision, for one crafted sample.
const sift::SiftDecision &sift_sample(sift::Sifter &sifter, wire::SflowSample &s) {
    alignas(64) uint8_t item[wire::kSflowItemBytes];
    std::memcpy(item, &s, sizeof s);
    hls_kernels::PrefilterCounters counters{};
    hls_kernels::prefilter_sflow(reinterpret_cast<hls_kernels::beat_t *>(item), 1,
                                 sifter.ruleset().tables(), &counters);
    EXPECT_EQ(counters.records, 1u);
    std::memcpy(&s, item, sizeof s);
    return sifter.decide_sflow(s);
}

TEST(SflowOffload, SamplesAreSiftedByTheirSampledPacketAndAgent) {
    const sift::RulesetSource source(ruleset(
        "sift:\n  rules:\n"
        "    - {id: tag-web, match: {dst_port: 443, protocol: tcp}, action: tag, tags: [web]}\n"
        "    - {id: keep-agent, match: {exporter: 192.0.2.0/24}, action: keep}\n"
        "    - {id: drop-rest, match: {kind: flow}, action: drop}\n"));
    sift::Sifter sifter(source);
    wire::SflowSample s{};
    s.item = static_cast<uint8_t>(wire::SflowItem::kFlowSample);
    s.flags = wire::kSflowHasIp | wire::kSflowHasPorts;
    s.protocol = 6;
    s.dst_port = 443;
    const uint8_t agent[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1};
    std::memcpy(s.agent, agent, 16);
    wire::SflowSample outside = s;
    const sift::SiftDecision &dropped = sift_sample(sifter, outside);
    EXPECT_TRUE(dropped.drop) << "the agent is outside keep-agent's CIDR";
    EXPECT_EQ(outside.verdict, static_cast<uint8_t>(wire::Verdict::kFiltered));
    EXPECT_EQ(outside.rule_id, 2);
    ASSERT_EQ(dropped.annotations.tags.size(), 1u);
    EXPECT_EQ(dropped.annotations.tags[0], "web");
    s.agent[12] = 192, s.agent[13] = 0, s.agent[14] = 2;
    const sift::SiftDecision &kept = sift_sample(sifter, s);
    EXPECT_FALSE(kept.drop) << "the agent is the exporter keep-agent names";
    EXPECT_EQ(s.rule_id, 1);
    s.dst_port = 80;
    s.agent[12] = 203;
    EXPECT_TRUE(sift_sample(sifter, s).annotations.tags.empty()) << "port 80 is not tag-web's";
}

#ifdef TAPSIFT_BACKEND_BUILD_DIR
TEST(SflowOffload, EmulatedCardReturnsTheCpuBackendsItems) {
    setenv("TAPSIFT_BACKEND_DIR", TAPSIFT_BACKEND_BUILD_DIR, 1);
    drivers::BackendConfig cfg;
    cfg.kind = drivers::BackendKind::kXrt;
    cfg.device = drivers::XrtDevice::kEmulated;
    std::string why;
    auto card = drivers::open_backend(cfg, why);
    ASSERT_NE(card, nullptr) << why;
    auto cpu = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    ASSERT_NE(cpu, nullptr) << why;
    const auto rules = ruleset(
        "sift:\n  rules:\n    - {id: no-udp, match: {kind: flow, protocol: udp}, action: drop}\n");
    ASSERT_TRUE(card->load_tables(rules->image(), rules->image_bytes()));
    ASSERT_TRUE(cpu->load_tables(rules->image(), rules->image_bytes()));
    const Batches batches = corpus_batches();
    const auto from_card = run(*card, batches);
    const auto from_cpu = run(*cpu, batches);
    ASSERT_EQ(from_card.size(), from_cpu.size());
    for (size_t i = 0; i < from_card.size(); ++i) {
        EXPECT_FALSE(from_card[i].empty());
        EXPECT_EQ(from_card[i], from_cpu[i]) << "batch " << i;
    }
    EXPECT_EQ(card->counters().sflow.datagrams, cpu->counters().sflow.datagrams);
    EXPECT_EQ(card->counters().prefilter.dropped, cpu->counters().prefilter.dropped);
    EXPECT_GT(card->counters().prefilter.dropped, 0u);
}
#endif

}  // namespace
}  // namespace tapsift
