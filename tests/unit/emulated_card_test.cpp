// The emulated card through the XRT native API itself, as the xrt backend drives it: memory
// that only sync moves, runs queued per compute unit, XRT's argument checks, injected latency
// and faults, and the counters. This binary links the emulated card, never libxrt_coreutil.
#include <gtest/gtest.h>
#include <xrt/xclbin.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "ingest_batch_builder.hpp"
#include "kernel_signatures.hpp"
#include "syslog_sift/syslog_sift.hpp"
#include "tapsift_emu_stats.h"
#include "wire/descriptor.hpp"

namespace {

using namespace std::chrono_literals;
using tapsift::hls_kernels::SyslogSiftCounters;
using Clock = std::chrono::steady_clock;

constexpr size_t kIngestBytes = tapsift::wire::kMaxBatchBeats * tapsift::wire::kBeatBytes;
constexpr size_t kDescriptorBytes =
    tapsift::wire::kMaxRecordsPerBatch * tapsift::wire::kDescriptorBytes;
constexpr size_t kTableBytes = 4096;  // no image: the prefilter decides nothing, parse still runs
constexpr uint8_t kXclbinUuid[16] = {0x7a, 0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};

// Sets environment variables for the devices a test opens, and restores them after.
class ScopedEnv {
  public:
    ScopedEnv &set(const char *name, const std::string &value) {
        const char *old = std::getenv(name);
        saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
        setenv(name, value.c_str(), 1);
        return *this;
    }
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second) {
                setenv(it->first.c_str(), it->second->c_str(), 1);
            } else {
                unsetenv(it->first.c_str());
            }
        }
    }

  private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Named per process: ctest runs the tests of this binary in parallel processes, and one writing
// the file while another loads it made load_xclbin fail now and then.
std::string write_file(const std::string &name, const void *bytes, size_t size) {
    const std::string path = ::testing::TempDir() + std::to_string(getpid()) + "-" + name;
    std::ofstream(path, std::ios::binary).write(static_cast<const char *>(bytes), size);
    return path;
}

// The smallest file XRT takes for an xclbin: the axlf header, magic and uuid.
std::string test_xclbin() {
    axlf top{};
    std::memcpy(top.m_magic, "xclbin2", 8);
    top.m_header.m_length = sizeof top;
    std::memcpy(top.m_header.uuid, kXclbinUuid, sizeof kXclbinUuid);
    return write_file("emulated_card_test.xclbin", &top, sizeof top);
}

// One syslog batch of n RFC 5424 records.
class SyslogBatch {
  public:
    explicit SyslogBatch(uint32_t n) : builder_(tapsift::wire::kMaxRecordsPerBatch) {
        const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
        for (uint32_t i = 0; i < n; ++i) {
            messages_.push_back("<34>1 2026-11-01T00:00:0" + std::to_string(i % 10) + "Z host" +
                                std::to_string(i) + " app - ID47 - message " + std::to_string(i));
            const tapsift::dataplane::RecordMeta meta{addr,
                                                      addr,
                                                      40000,
                                                      514,
                                                      tapsift::wire::RecordKind::kSyslog,
                                                      0,
                                                      0,
                                                      0,
                                                      1793491200ULL * 1000000000ULL,
                                                      i + 1};
            const std::string &m = messages_.back();
            if (!builder_.add(meta, reinterpret_cast<const uint8_t *>(m.data()),
                              static_cast<uint32_t>(m.size()))) {
                throw std::logic_error("test batch too large");
            }
        }
    }
    const uint8_t *data() const { return builder_.data(); }
    uint32_t bytes() const { return builder_.size_bytes(); }
    uint32_t records() const { return builder_.records(); }

  private:
    std::vector<std::string> messages_;
    tapsift::dataplane::IngestBatchBuilder builder_;
};

struct Card {
    xrt::device device{0};
    xrt::uuid uuid = device.load_xclbin(test_xclbin());
};

// The buffers and run of one syslog_sift slot, set up as a backend would.
struct SyslogSlot {
    SyslogSlot(const Card &card, const std::string &kernel_name)
        : kernel(card.device, card.uuid, kernel_name),
          ingest(card.device, kIngestBytes, kernel.group_id(0)),
          descriptors(card.device, kDescriptorBytes, kernel.group_id(1)),
          tables(card.device, kTableBytes, kernel.group_id(3)),
          counters(card.device, sizeof(SyslogSiftCounters), kernel.group_id(4)),
          run(kernel) {
        std::memset(tables.map(), 0, kTableBytes);
        tables.sync(XCL_BO_SYNC_BO_TO_DEVICE);
        zero_counters();
        run.set_arg(0, ingest);
        run.set_arg(1, descriptors);
        run.set_arg(2, int32_t{0});
        run.set_arg(3, tables);
        run.set_arg(4, counters);
    }
    void zero_counters() {
        std::memset(counters.map(), 0, sizeof(SyslogSiftCounters));
        counters.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    }
    void upload(const SyslogBatch &batch) {
        ingest.write(batch.data(), batch.bytes(), 0);
        ingest.sync(XCL_BO_SYNC_BO_TO_DEVICE, batch.bytes(), 0);
    }
    SyslogSiftCounters device_counters() {
        counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
        SyslogSiftCounters c;
        counters.read(&c, sizeof c, 0);
        return c;
    }
    std::vector<uint8_t> device_descriptors(uint32_t n) {
        descriptors.sync(XCL_BO_SYNC_BO_FROM_DEVICE, n * tapsift::wire::kDescriptorBytes, 0);
        std::vector<uint8_t> out(n * tapsift::wire::kDescriptorBytes);
        descriptors.read(out.data(), out.size(), 0);
        return out;
    }
    ert_cmd_state run_once() {
        run.start();
        return run.wait(10s);
    }

    xrt::kernel kernel;
    xrt::bo ingest, descriptors, tables, counters;
    xrt::run run;
};

// What the kernel top function computes on host memory for the same batch.
std::vector<uint8_t> expected_descriptors(const SyslogBatch &batch) {
    auto *in =
        reinterpret_cast<tapsift::hls_kernels::beat_t *>(std::aligned_alloc(4096, kIngestBytes));
    auto *out = reinterpret_cast<tapsift::hls_kernels::beat_t *>(
        std::aligned_alloc(4096, kDescriptorBytes));
    auto *tab =
        reinterpret_cast<tapsift::hls_kernels::beat_t *>(std::aligned_alloc(4096, kTableBytes));
    std::memcpy(in, batch.data(), batch.bytes());
    std::memset(static_cast<void *>(tab), 0, kTableBytes);
    SyslogSiftCounters c{};
    tapsift::hls_kernels::syslog_sift(in, out, 0, tab, &c);
    std::vector<uint8_t> result(
        reinterpret_cast<uint8_t *>(out),
        reinterpret_cast<uint8_t *>(out) + batch.records() * tapsift::wire::kDescriptorBytes);
    std::free(in);
    std::free(out);
    std::free(tab);
    return result;
}

bool all_bytes(const void *p, size_t n, uint8_t value) {
    const auto *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n; ++i) {
        if (b[i] != value) return false;
    }
    return true;
}

tapsift_emu_cu_stats cu_stats(const std::string &name) {
    tapsift_emu_stats s;
    tapsift_emu_get_stats(&s);
    for (uint32_t i = 0; i < s.cu_count; ++i) {
        if (name == s.cu[i].name) return s.cu[i];
    }
    return tapsift_emu_cu_stats{};
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// --- memory ---------------------------------------------------------------------------------

TEST(EmulatedCard, DeviceMemoryIsPoisonUntilSyncedAndHostMemoryIsSeparate) {
    Card card;
    xrt::bo bo(card.device, 4096, 0);
    EXPECT_TRUE(all_bytes(bo.map(), 4096, 0x5A)) << "host copy starts as host poison";
    std::memset(bo.map(), 0x11, 4096);
    bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE);  // the device copy was never written
    EXPECT_TRUE(all_bytes(bo.map(), 4096, 0xDB)) << "device copy starts as device poison";
    std::memset(bo.map(), 0x22, 4096);
    bo.sync(XCL_BO_SYNC_BO_TO_DEVICE, 64, 128);  // only bytes 128..191 reach the device
    std::memset(bo.map(), 0x33, 4096);
    bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
    const auto *b = bo.map<const uint8_t *>();
    EXPECT_TRUE(all_bytes(b, 128, 0xDB));
    EXPECT_TRUE(all_bytes(b + 128, 64, 0x22));
    EXPECT_TRUE(all_bytes(b + 192, 4096 - 192, 0xDB));
}

TEST(EmulatedCard, DeviceOnlyBuffersHaveNoHostCopyAndAreFilledByDeviceCopies) {
    Card card;
    xrt::bo staging(card.device, 256, 0);
    xrt::bo device_only(card.device, 256, xrt::bo::flags::device_only, 0);
    EXPECT_THROW(device_only.map(), std::exception);
    EXPECT_THROW(device_only.sync(XCL_BO_SYNC_BO_TO_DEVICE), std::exception);
    std::memset(staging.map(), 0x42, 256);
    staging.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    device_only.copy(staging, 64, 0, 32);  // device bytes 32..95 of device_only
    xrt::bo readback(card.device, 256, 0);
    readback.copy(device_only);
    readback.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
    const auto *b = readback.map<const uint8_t *>();
    EXPECT_TRUE(all_bytes(b, 32, 0xDB));
    EXPECT_TRUE(all_bytes(b + 32, 64, 0x42));
    EXPECT_TRUE(all_bytes(b + 96, 160, 0xDB));
}

TEST(EmulatedCard, KernelSeesOnlyWhatWasSynced) {
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    SyslogBatch batch(3);
    slot.ingest.write(batch.data(), batch.bytes(), 0);  // written, not synced
    ASSERT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    SyslogSiftCounters c = slot.device_counters();
    EXPECT_EQ(c.parse.records, 0u) << "the kernel read the host copy";
    EXPECT_EQ(c.parse.bad_batches, 1u) << "the kernel should have seen a poisoned batch header";
    slot.ingest.sync(XCL_BO_SYNC_BO_TO_DEVICE, batch.bytes(), 0);
    ASSERT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    c = slot.device_counters();
    EXPECT_EQ(c.parse.records, 3u);
}

TEST(EmulatedCard, ResultsReachTheHostOnlyThroughSyncAndMatchTheKernelFunction) {
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    SyslogBatch batch(5);
    slot.upload(batch);
    ASSERT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    EXPECT_TRUE(all_bytes(slot.descriptors.map(), 5 * tapsift::wire::kDescriptorBytes, 0x5A))
        << "descriptors reached the host copy without a sync";
    EXPECT_EQ(slot.device_descriptors(5), expected_descriptors(batch));
}

// --- queues ---------------------------------------------------------------------------------

TEST(EmulatedCard, StartReturnsAtOnceAndTwoComputeUnitsOverlap) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS", "300000000");  // 300 ms per run
    Card card;
    SyslogSlot a(card, "syslog_sift:{syslog_sift_1}");
    SyslogSlot b(card, "syslog_sift:{syslog_sift_2}");
    SyslogBatch batch(2);
    a.upload(batch);
    b.upload(batch);
    const auto t0 = Clock::now();
    a.run.start();
    b.run.start();
    EXPECT_LT(ms_since(t0), 100.0) << "start() waited for the run";
    EXPECT_NE(a.run.state(), ERT_CMD_STATE_COMPLETED);
    EXPECT_NE(b.run.state(), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(a.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(b.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    const double both = ms_since(t0);
    EXPECT_GE(both, 295.0);
    EXPECT_LT(both, 550.0) << "two CUs ran one after the other (serial would be 600 ms)";
    EXPECT_EQ(a.device_counters().parse.records, 2u);
    EXPECT_EQ(b.device_counters().parse.records, 2u);
}

TEST(EmulatedCard, OneComputeUnitRunsItsQueueInOrder) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS", "100000000");  // 100 ms per run
    Card card;
    SyslogSlot a(card, "syslog_sift:{syslog_sift_1}");
    SyslogSlot b(card, "syslog_sift:{syslog_sift_1}");
    SyslogBatch batch(1);
    a.upload(batch);
    b.upload(batch);
    const auto t0 = Clock::now();
    a.run.start();
    b.run.start();
    EXPECT_EQ(b.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(a.run.state(), ERT_CMD_STATE_COMPLETED) << "the later run finished first";
    EXPECT_GE(ms_since(t0), 195.0) << "two runs on one CU overlapped";
}

TEST(EmulatedCard, ActiveSpanRunsFromTheFirstStartToTheLastEndGapsIncluded) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS", "20000000");  // 20 ms per run
    Card card;
    SyslogSlot slot(card, "syslog_sift:{syslog_sift_1}");
    slot.upload(SyslogBatch(1));
    tapsift_emu_stats_reset();
    slot.run.start();
    EXPECT_EQ(slot.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    std::this_thread::sleep_for(50ms);  // the host keeps the unit waiting
    slot.run.start();
    EXPECT_EQ(slot.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    const tapsift_emu_cu_stats s = cu_stats("syslog_sift_1");
    EXPECT_GE(s.busy_ns, 40'000'000u);
    EXPECT_GE(s.active_ns, s.busy_ns + 50'000'000u) << "the 50 ms gap is in the span, not busy";
}

TEST(EmulatedCard, TheBuffersBanksChooseTheComputeUnit) {
    Card card;
    const auto before2 = cu_stats("syslog_sift_2").runs_started;
    SyslogSlot cu2(card, "syslog_sift:{syslog_sift_2}");  // buffers in CU 2's banks
    xrt::kernel all(card.device, card.uuid, "syslog_sift");
    xrt::run r(all);
    r.set_arg(0, cu2.ingest);
    r.set_arg(1, cu2.descriptors);
    r.set_arg(2, int32_t{0});
    r.set_arg(3, cu2.tables);
    r.set_arg(4, cu2.counters);
    cu2.upload(SyslogBatch(1));
    r.start();
    EXPECT_EQ(r.wait(10s), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(cu_stats("syslog_sift_2").runs_started - before2, 1u);
    SyslogSlot cu1(card, "syslog_sift:{syslog_sift_1}");
    xrt::run mixed(all);
    mixed.set_arg(0, cu1.ingest);
    EXPECT_THROW(mixed.set_arg(1, cu2.descriptors), std::exception)
        << "no compute unit is connected to both buffers' banks";
}

TEST(EmulatedCard, WaitTimesOutOnARunStillGoing) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS", "300000000");
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    slot.upload(SyslogBatch(1));
    slot.run.start();
    EXPECT_EQ(slot.run.wait(10ms), ERT_CMD_STATE_TIMEOUT);
    EXPECT_EQ(slot.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(slot.run.state(), ERT_CMD_STATE_COMPLETED);
}

TEST(EmulatedCard, BuffersOfARunInFlightCannotBeSyncedOrItsArgumentsChanged) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS", "200000000");
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    slot.upload(SyslogBatch(1));
    slot.run.start();
    EXPECT_THROW(slot.ingest.sync(XCL_BO_SYNC_BO_TO_DEVICE), std::exception);
    EXPECT_THROW(slot.counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE), std::exception);
    EXPECT_NO_THROW(slot.ingest.sync(XCL_BO_SYNC_BO_FROM_DEVICE)) << "the kernel only reads it";
    EXPECT_THROW(slot.run.set_arg(2, int32_t{60}), std::exception);
    EXPECT_THROW(slot.run.start(), std::exception);
    EXPECT_EQ(slot.run.wait(10s), ERT_CMD_STATE_COMPLETED);
    EXPECT_NO_THROW(slot.counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE));
}

// --- argument checks ------------------------------------------------------------------------

TEST(EmulatedCard, ArgumentsAreCheckedAgainstTheSignature) {
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    xrt::run r(slot.kernel);
    EXPECT_THROW(r.set_arg(5, slot.ingest), std::exception) << "index past the last argument";
    EXPECT_THROW(r.set_arg(-1, int32_t{0}), std::exception);
    EXPECT_THROW(r.set_arg(2, int64_t{0}), std::exception) << "8 bytes for a 4-byte scalar";
    EXPECT_THROW(r.set_arg(2, slot.tables), std::exception) << "a buffer for a scalar";
    EXPECT_THROW(r.set_arg(0, int64_t{0}), std::exception) << "a scalar for a buffer";
    EXPECT_THROW(r.set_arg(4, slot.ingest), std::exception) << "a buffer from another bank";
    r.set_arg(0, slot.ingest);
    r.set_arg(1, slot.descriptors);
    r.set_arg(3, slot.tables);
    r.set_arg(4, slot.counters);
    try {
        r.start();
        FAIL() << "started with argument 2 unset";
    } catch (const std::exception &e) {
        EXPECT_NE(std::string(e.what()).find("rfc3164_utc_offset_s"), std::string::npos)
            << e.what();
    }
    r.set_arg(2, int32_t{0});
    EXPECT_NO_THROW(r.start());
    EXPECT_EQ(r.wait(10s), ERT_CMD_STATE_COMPLETED);
}

TEST(EmulatedCard, UnknownKernelsAndComputeUnitsAreRefused) {
    Card card;
    EXPECT_THROW(xrt::kernel(card.device, card.uuid, "syslog_parse"), std::exception);
    EXPECT_THROW(xrt::kernel(card.device, card.uuid, "syslog_sift:{syslog_sift_9}"),
                 std::exception);
    EXPECT_THROW(xrt::kernel(card.device, card.uuid, "syslog_sift:{flow_sift_1}"), std::exception);
    EXPECT_THROW(xrt::kernel(card.device, card.uuid, "syslog_sift:syslog_sift_1"), std::exception);
    EXPECT_THROW(xrt::kernel(card.device, xrt::uuid(), "syslog_sift"), std::exception)
        << "an xclbin that is not loaded";
    EXPECT_NO_THROW(xrt::kernel(card.device, card.uuid, "flow_sift:{flow_sift_1,flow_sift_2}"));
}

TEST(EmulatedCard, GroupIdIsTheSignaturesMemoryBank) {
    Card card;
    for (const char *name : {"syslog_sift", "flow_sift"}) {
        const auto *sig = tapsift::kernel_interface::find_kernel(name);
        ASSERT_NE(sig, nullptr) << name;
        xrt::kernel k(card.device, card.uuid, name);
        for (uint32_t i = 0; i < sig->arg_count; ++i) {
            if (sig->args[i].kind == tapsift::kernel_interface::ArgKind::kBuffer) {
                EXPECT_EQ(k.group_id(static_cast<int>(i)), static_cast<int>(sig->args[i].group))
                    << name << " arg " << i;
            } else {
                EXPECT_THROW(k.group_id(static_cast<int>(i)), std::exception)
                    << name << " scalar arg " << i;
            }
        }
        EXPECT_THROW(k.group_id(static_cast<int>(sig->arg_count)), std::exception);
        // A kernel selecting its last compute unit: that unit's banks.
        const uint32_t last = sig->compute_units - 1;
        xrt::kernel k_last(card.device, card.uuid,
                           std::string(name) + ":{" + name + "_" + std::to_string(last + 1) + "}");
        for (uint32_t i = 0; i < sig->arg_count; ++i) {
            if (sig->args[i].kind != tapsift::kernel_interface::ArgKind::kBuffer) continue;
            EXPECT_EQ(k_last.group_id(static_cast<int>(i)),
                      static_cast<int>(sig->cu_groups[last * sig->arg_count + i]))
                << name << " arg " << i;
        }
    }
}

TEST(EmulatedCard, LoadXclbinTakesOnlyAnXclbinAndReturnsItsUuid) {
    xrt::device device(0);
    EXPECT_EQ(device.load_xclbin(test_xclbin()), xrt::uuid(kXclbinUuid));
    EXPECT_THROW(device.load_xclbin(::testing::TempDir() + "no-such.xclbin"), std::exception);
    const std::string text(600, 'x');
    EXPECT_THROW(device.load_xclbin(write_file("not.xclbin", text.data(), text.size())),
                 std::exception);
    EXPECT_THROW(xrt::device(1), std::exception) << "the emulated card is device 0 only";
}

TEST(EmulatedCard, TheGeneratedDefaultXclbinLoads) {
    xrt::device device(0);
    EXPECT_EQ(device.load_xclbin(TAPSIFT_EMULATED_XCLBIN).to_string(),
              "7a500000-7e57-4ca4-8d00-e0a1a7ed0001");
}

TEST(EmulatedCard, AShortBufferFailsTheRunInsteadOfOverrunningIt) {
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    xrt::bo small(card.device, tapsift::wire::kDescriptorBytes, slot.kernel.group_id(1));
    slot.run.set_arg(1, small);
    slot.upload(SyslogBatch(3));  // 3 descriptors, room for 1
    tapsift_emu_stats before;
    tapsift_emu_get_stats(&before);
    EXPECT_EQ(slot.run_once(), ERT_CMD_STATE_ERROR);
    tapsift_emu_stats after;
    tapsift_emu_get_stats(&after);
    EXPECT_EQ(after.bounds_errors - before.bounds_errors, 1u);
}

TEST(EmulatedCard, BadEnvironmentValuesAreRefusedWhenTheDeviceOpens) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_DMA_NS", "2us");
    EXPECT_THROW(xrt::device(0), std::invalid_argument);
    env.set("TAPSIFT_EMU_DMA_NS", "2000").set("TAPSIFT_EMU_FAULT", "sometimes");
    EXPECT_THROW(xrt::device(0), std::invalid_argument);
}

// --- latency --------------------------------------------------------------------------------

TEST(EmulatedCard, SyncCostsTheInjectedDmaLatency) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_DMA_NS", "20000000").set("TAPSIFT_EMU_DMA_PS_PER_BYTE", "10000000");
    Card card;  // 20 ms per sync, plus 10 us per byte
    xrt::bo bo(card.device, 4096, 0);
    auto t0 = Clock::now();
    bo.sync(XCL_BO_SYNC_BO_TO_DEVICE, 64, 0);
    EXPECT_GE(ms_since(t0), 20.0 + 0.64 - 0.01);
    t0 = Clock::now();
    bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE, 4096, 0);
    EXPECT_GE(ms_since(t0), 20.0 + 40.96 - 0.01);
}

TEST(EmulatedCard, KernelTimeGrowsWithTheBatchsBeats) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_KERNEL_NS_PER_BEAT", "2000000");  // 2 ms per 64-byte beat
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    SyslogBatch batch(10);  // a header beat, then 2 beats per record
    const double model_ms = 2.0 * batch.bytes() / tapsift::wire::kBeatBytes;
    slot.upload(batch);
    const auto t0 = Clock::now();
    ASSERT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    EXPECT_GE(ms_since(t0), model_ms - 0.01);
    EXPECT_LT(ms_since(t0), model_ms + 200.0);
}

// --- faults ---------------------------------------------------------------------------------

TEST(EmulatedCard, FaultHangOnTheKthRunNeverCompletesUntilAborted) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_FAULT", "hang").set("TAPSIFT_EMU_FAULT_RUN", "2");
    tapsift_emu_stats_reset();  // K counts from here
    Card card;
    SyslogSlot slot(card, "syslog_sift:{syslog_sift_1}");
    const auto before = cu_stats("syslog_sift_1");
    slot.upload(SyslogBatch(1));
    EXPECT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    slot.run.start();
    EXPECT_EQ(slot.run.wait(200ms), ERT_CMD_STATE_TIMEOUT);
    EXPECT_EQ(slot.run.abort(), ERT_CMD_STATE_ABORT);
    EXPECT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED) << "the third run is not faulted";
    const auto after = cu_stats("syslog_sift_1");
    EXPECT_EQ(after.runs_aborted - before.runs_aborted, 1u);
    EXPECT_EQ(after.runs_completed - before.runs_completed, 2u);
}

TEST(EmulatedCard, AHungComputeUnitHoldsTheRunsQueuedBehindIt) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_FAULT", "hang").set("TAPSIFT_EMU_FAULT_RUN", "1");
    tapsift_emu_stats_reset();  // K counts from here
    Card card;
    SyslogSlot a(card, "syslog_sift:{syslog_sift_1}");
    SyslogSlot b(card, "syslog_sift:{syslog_sift_1}");
    a.upload(SyslogBatch(1));
    b.upload(SyslogBatch(1));
    a.run.start();
    b.run.start();
    EXPECT_EQ(b.run.wait(100ms), ERT_CMD_STATE_TIMEOUT);
    EXPECT_EQ(b.run.state(), ERT_CMD_STATE_QUEUED);
    a.run.abort();
    EXPECT_EQ(b.run.wait(10s), ERT_CMD_STATE_COMPLETED);
}

TEST(EmulatedCard, FaultErrorOnOneComputeUnitOnly) {
    ScopedEnv env;
    env.set("TAPSIFT_EMU_FAULT", "error").set("TAPSIFT_EMU_FAULT_CU", "syslog_sift_2");
    Card card;
    SyslogSlot good(card, "syslog_sift:{syslog_sift_1}");
    SyslogSlot bad(card, "syslog_sift:{syslog_sift_2}");
    SyslogBatch batch(1);
    good.upload(batch);
    bad.upload(batch);
    EXPECT_EQ(good.run_once(), ERT_CMD_STATE_COMPLETED);
    EXPECT_EQ(bad.run_once(), ERT_CMD_STATE_ERROR);
    EXPECT_EQ(bad.run_once(), ERT_CMD_STATE_ERROR) << "every run of that CU";
    EXPECT_EQ(bad.run.state(), ERT_CMD_STATE_ERROR);
    EXPECT_EQ(good.run_once(), ERT_CMD_STATE_COMPLETED);
}

TEST(EmulatedCard, FaultCorruptDamagesTheFirstDescriptorOfACompletedRun) {
    SyslogBatch batch(2);
    const std::vector<uint8_t> clean = expected_descriptors(batch);
    ScopedEnv env;
    env.set("TAPSIFT_EMU_FAULT", "corrupt");
    Card card;
    SyslogSlot slot(card, "syslog_sift");
    slot.upload(batch);
    EXPECT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    const std::vector<uint8_t> got = slot.device_descriptors(2);
    for (size_t i = 0; i < tapsift::wire::kDescriptorBytes; ++i) {
        EXPECT_EQ(got[i], static_cast<uint8_t>(~clean[i])) << "byte " << i;
    }
    EXPECT_TRUE(std::equal(got.begin() + tapsift::wire::kDescriptorBytes, got.end(),
                           clean.begin() + tapsift::wire::kDescriptorBytes))
        << "the second descriptor changed too";
}

// --- counters -------------------------------------------------------------------------------

TEST(EmulatedCard, CountersCountSyncsBytesAndRunsPerComputeUnit) {
    Card card;
    SyslogSlot slot(card, "syslog_sift:{syslog_sift_3}");
    SyslogBatch batch(4);
    tapsift_emu_stats before;
    tapsift_emu_get_stats(&before);
    const auto cu_before = cu_stats("syslog_sift_3");
    slot.upload(batch);
    ASSERT_EQ(slot.run_once(), ERT_CMD_STATE_COMPLETED);
    slot.device_counters();
    slot.device_descriptors(4);
    tapsift_emu_stats after;
    tapsift_emu_get_stats(&after);
    const auto cu_after = cu_stats("syslog_sift_3");
    EXPECT_EQ(after.syncs_to_device - before.syncs_to_device, 1u);
    EXPECT_EQ(after.bytes_to_device - before.bytes_to_device, batch.bytes());
    EXPECT_EQ(after.syncs_from_device - before.syncs_from_device, 2u);
    EXPECT_EQ(after.bytes_from_device - before.bytes_from_device,
              sizeof(SyslogSiftCounters) + 4 * tapsift::wire::kDescriptorBytes);
    EXPECT_EQ(after.runs_started - before.runs_started, 1u);
    EXPECT_EQ(cu_after.runs_started - cu_before.runs_started, 1u);
    EXPECT_EQ(cu_after.runs_completed - cu_before.runs_completed, 1u);
}

TEST(EmulatedCard, StatsFileIsWrittenAtExit) {
    const std::string path = ::testing::TempDir() + "emulated_card_stats.json";
    std::remove(path.c_str());
    EXPECT_EXIT(
        {
            setenv("TAPSIFT_EMU_STATS", path.c_str(), 1);
            tapsift_emu_stats_reset();
            Card card;
            xrt::bo bo(card.device, 1000, 0);
            bo.sync(XCL_BO_SYNC_BO_TO_DEVICE, 777, 0);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
    std::ifstream in(path);
    ASSERT_TRUE(in) << path << " was not written";
    std::stringstream json;
    json << in.rdbuf();
    EXPECT_NE(json.str().find("\"bytes_to_device\": 777,"), std::string::npos) << json.str();
    EXPECT_NE(json.str().find("\"syncs_to_device\": 1,"), std::string::npos) << json.str();
}

}  // namespace
