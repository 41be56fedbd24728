#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ingest_batch_builder.hpp"
#include "offload_backend.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::drivers {
namespace {

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
