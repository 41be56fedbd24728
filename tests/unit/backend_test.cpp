#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "flow_harness.hpp"
#include "ingest_batch_builder.hpp"
#include "offload_backend.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::drivers {
namespace {

using IngestBatchBuilderPtr = std::unique_ptr<dataplane::IngestBatchBuilder>;

TEST(Backend, AutoFallsBackToCpuWithoutACard) {
    BackendConfig cfg;
    cfg.kind = BackendKind::kAuto;
    cfg.xclbin = "/nonexistent/tapsift.xclbin";
    std::string why;
    auto b = open_backend(cfg, why);
    ASSERT_NE(b, nullptr) << why;
    EXPECT_STREQ(b->name(), "cpu");
}

// The xrt backend modules are built next to tapsift (build/host), not next to this test.
void find_backend_modules() {
#ifdef TAPSIFT_BACKEND_BUILD_DIR
    setenv("TAPSIFT_BACKEND_DIR", TAPSIFT_BACKEND_BUILD_DIR, 1);
#endif
}

TEST(Backend, ExplicitXrtFailsWithAReason) {
    find_backend_modules();
    BackendConfig cfg;
    cfg.kind = BackendKind::kXrt;
    std::string why;
    EXPECT_EQ(open_backend(cfg, why), nullptr);
    EXPECT_EQ(why, "no xclbin configured (offload.xclbin)");
    cfg.xclbin = "/nonexistent/tapsift.xclbin";
    why.clear();
    EXPECT_EQ(open_backend(cfg, why), nullptr);
    EXPECT_FALSE(why.empty()) << "XRT's own reason (no device, or no XRT support) is passed on";
}

#ifdef TAPSIFT_BACKEND_BUILD_DIR
TEST(Backend, EmulatedDeviceLoadsTheEmulatedCardModule) {
    find_backend_modules();
    BackendConfig cfg;
    cfg.kind = BackendKind::kXrt;
    cfg.device = XrtDevice::kEmulated;
    cfg.xclbin = "/nonexistent/tapsift.xclbin";
    std::string why;
    EXPECT_EQ(open_backend(cfg, why), nullptr);
    // The emulated card's own load_xclbin message: the emulated module, not XRT, was loaded.
    EXPECT_NE(why.find("load_xclbin: cannot open '/nonexistent/tapsift.xclbin'"), std::string::npos)
        << why;
}

IngestBatchBuilderPtr flow_batch(const testing::Bytes &payload) {
    auto batch = std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch,
                                                                 dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    batch->add(
        dataplane::RecordMeta{addr, addr, 40000, 4739, wire::RecordKind::kIpfix, 0, 0, 0, 1, 1},
        payload.data(), static_cast<uint32_t>(payload.size()));
    return batch;
}

wire::FlowDescriptor item_at(const BatchResult &r, uint32_t k) {
    wire::FlowDescriptor d;
    std::memcpy(&d, r.output + size_t{k} * wire::kDescriptorBytes, sizeof d);
    return d;
}

// The template store stays in the card's memory: a restored template uploaded once, then flow
// batches in flight together, each run with the templates the ones before it left.
TEST(Backend, EmulatedCardKeepsFlowTemplatesOnTheCardAcrossBatchesInFlight) {
    find_backend_modules();
    BackendConfig cfg;
    cfg.kind = BackendKind::kXrt;
    cfg.device = XrtDevice::kEmulated;
    std::string why;
    auto b = open_backend(cfg, why);
    ASSERT_NE(b, nullptr) << why;
    using testing::be;
    testing::FlowEngine restored;  // the templates a previous run saved
    restored.run({testing::ipfix(
        testing::ipfix_message(0, 0, {testing::template_set(true, 256, {{7, 2}})}))});
    ASSERT_TRUE(b->load_flow_state(*restored.state));
    const auto data_256 =
        flow_batch(testing::ipfix_message(0, 0, {testing::data_set(256, be(443, 2))}));
    const auto template_257 =
        flow_batch(testing::ipfix_message(0, 0, {testing::template_set(true, 257, {{11, 2}})}));
    const auto data_257 =
        flow_batch(testing::ipfix_message(0, 0, {testing::data_set(257, be(53, 2))}));
    for (const auto *batch : {data_256.get(), template_257.get(), data_257.get()})
        ASSERT_TRUE(b->submit(BatchKind::kFlow, batch->data(), batch->size_bytes()));
    EXPECT_FALSE(b->load_flow_state(*restored.state)) << "not under batches in flight";
    BatchResult r;
    ASSERT_TRUE(b->collect(true, r));
    ASSERT_EQ(r.status, BatchStatus::kDone);
    ASSERT_EQ(r.outputs, 2u);  // the record, named by the restored template; the datagram done
    EXPECT_EQ(item_at(r, 0).item, static_cast<uint8_t>(wire::FlowItem::kRecord));
    EXPECT_EQ(item_at(r, 0).template_id, 256);
    EXPECT_EQ(item_at(r, 0).src_port, 443);
    ASSERT_TRUE(b->collect(true, r));
    ASSERT_EQ(r.outputs, 2u);
    EXPECT_EQ(item_at(r, 0).item, static_cast<uint8_t>(wire::FlowItem::kTemplateLearned));
    ASSERT_TRUE(b->collect(true, r));
    ASSERT_EQ(r.outputs, 2u);
    EXPECT_EQ(item_at(r, 0).item, static_cast<uint8_t>(wire::FlowItem::kRecord));
    EXPECT_EQ(item_at(r, 0).template_id, 257);
    EXPECT_EQ(item_at(r, 0).dst_port, 53);
    EXPECT_EQ(b->counters().flow.sets_without_template, 0u);
}

TEST(Backend, MissingModuleIsAClearError) {
    setenv("TAPSIFT_BACKEND_DIR", "/nonexistent", 1);
    BackendConfig cfg;
    cfg.kind = BackendKind::kXrt;
    cfg.device = XrtDevice::kEmulated;
    std::string why;
    EXPECT_EQ(open_backend(cfg, why), nullptr);
    EXPECT_EQ(why.rfind("no tapsift_xrt_emulated.so in /nonexistent, ", 0), 0u) << why;
}
#endif

TEST(Backend, CpuBackendReturnsOneDescriptorPerRecord) {
    std::string why;
    auto b = open_backend(BackendConfig{BackendKind::kCpu, "", 0}, why);
    ASSERT_NE(b, nullptr);
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch);
    const uint8_t addr[16] = {};
    const std::string msgs[] = {"<13>Jan  1 00:00:00 a b: c", "", "<999>x"};
    for (const auto &m : msgs) {
        const dataplane::RecordMeta meta{addr, addr, 1, 514, wire::RecordKind::kSyslog,
                                         0,    0,    0, 0,   1};
        ASSERT_TRUE(batch.add(meta, reinterpret_cast<const uint8_t *>(m.data()),
                              static_cast<uint32_t>(m.size())));
    }
    BatchResult r;
    ASSERT_TRUE(b->run_one(BatchKind::kSyslog, batch.data(), batch.size_bytes(), r));
    ASSERT_EQ(r.outputs, 3u);
    wire::Descriptor d[3];
    std::memcpy(d, r.output, sizeof d);
    EXPECT_EQ(d[0].verdict, static_cast<uint8_t>(wire::Verdict::kForward));
    EXPECT_EQ(d[1].malformed_reason, static_cast<uint8_t>(wire::SyslogMalformed::kEmpty));
    EXPECT_EQ(d[2].malformed_reason, static_cast<uint8_t>(wire::SyslogMalformed::kBadPri));
    for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(d[i].record_index, i);
}

TEST(Backend, CorruptBatchHeaderYieldsNoDescriptors) {
    std::string why;
    auto b = open_backend(BackendConfig{BackendKind::kCpu, "", 0}, why);
    std::vector<uint8_t> junk(wire::kBeatBytes * 4, 0xab);
    BatchResult r;
    ASSERT_TRUE(b->run_one(BatchKind::kSyslog, junk.data(), static_cast<uint32_t>(junk.size()), r));
    EXPECT_EQ(r.outputs, 0u);
    EXPECT_EQ(b->counters().syslog.bad_batches, 1u);
}

TEST(Backend, CpuBackendHoldsOneBatchUntilCollected) {
    std::string why;
    auto b = open_backend(BackendConfig{BackendKind::kCpu, "", 0}, why);
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch);
    BatchResult r;
    EXPECT_FALSE(b->collect(true, r)) << "nothing in flight";
    ASSERT_TRUE(b->submit(BatchKind::kSyslog, batch.data(), batch.size_bytes()));
    EXPECT_FALSE(b->submit(BatchKind::kSyslog, batch.data(), batch.size_bytes()));
    EXPECT_EQ(b->counters().ring_full, 1u);
    EXPECT_TRUE(b->collect(false, r));
    EXPECT_TRUE(b->submit(BatchKind::kSyslog, batch.data(), batch.size_bytes()));
}

}  // namespace
}  // namespace tapsift::drivers
