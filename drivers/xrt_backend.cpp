// xrt backend: a card through the XRT native API. A ring of three slots, each with its buffers
// and an xrt::run whose arguments are bound once (as Vitis_Accel_Examples' iops_test_xrt).
// flow_parse has one slot. Its template memory is a device buffer the kernel keeps across runs:
// uploaded once at start (empty, or the restored templates) and never read back; the host keeps
// its own copy from the change items the kernel returns.
#include <array>
#include <cstring>
#include <exception>

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "offload_backend.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::drivers {
namespace {

constexpr size_t kRingSlots = 3;
constexpr size_t kIngestBytes = wire::kMaxBatchBeats * wire::kBeatBytes;
constexpr size_t kDescriptorBytes = wire::kMaxRecordsPerBatch * wire::kDescriptorBytes;

struct Slot {
    xrt::bo ingest;
    xrt::bo descriptors;
    xrt::bo counters;
    xrt::run run;
    uint64_t records_seen;  // the kernel accumulates into this slot's counters
};

struct FlowEngine {
    xrt::kernel kernel;
    xrt::bo ingest;
    xrt::bo items;
    xrt::bo state;
    xrt::bo counters;
    xrt::run run;
    hls_kernels::FlowParseCounters last{};
    uint64_t items_seen = 0;  // the kernel accumulates into its counters
};

struct XrtState {
    xrt::device device;
    xrt::kernel kernel;
    std::array<Slot, kRingSlots> slots;
    size_t next = 0;
    FlowEngine flow;
};

int xrt_process(void *state, const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *descriptors) {
    auto *s = static_cast<XrtState *>(state);
    Slot &slot = s->slots[s->next];
    s->next = (s->next + 1) % kRingSlots;
    try {
        slot.ingest.write(ingest, ingest_bytes, 0);
        slot.ingest.sync(XCL_BO_SYNC_BO_TO_DEVICE, ingest_bytes, 0);
        slot.run.start();
        slot.run.wait();
        hls_kernels::SyslogParseCounters ctr{};
        slot.counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
        slot.counters.read(&ctr, sizeof ctr, 0);
        const uint64_t written = ctr.records - slot.records_seen;
        slot.records_seen = ctr.records;
        slot.descriptors.sync(XCL_BO_SYNC_BO_FROM_DEVICE, written * wire::kDescriptorBytes, 0);
        slot.descriptors.read(descriptors, written * wire::kDescriptorBytes, 0);
        return static_cast<int>(written);
    } catch (const std::exception &) {
        return -1;
    }
}

int xrt_process_flows(void *state, const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *items) {
    FlowEngine &f = static_cast<XrtState *>(state)->flow;
    try {
        f.ingest.write(ingest, ingest_bytes, 0);
        f.ingest.sync(XCL_BO_SYNC_BO_TO_DEVICE, ingest_bytes, 0);
        f.run.start();
        f.run.wait();
        f.counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
        f.counters.read(&f.last, sizeof f.last, 0);
        const uint64_t written = f.last.items - f.items_seen;
        f.items_seen = f.last.items;
        f.items.sync(XCL_BO_SYNC_BO_FROM_DEVICE, written * wire::kDescriptorBytes, 0);
        f.items.read(items, written * wire::kDescriptorBytes, 0);
        return static_cast<int>(written);
    } catch (const std::exception &) {
        return -1;
    }
}

bool xrt_load_flow_state(void *state, const wire::FlowParseState &flow_state) {
    FlowEngine &f = static_cast<XrtState *>(state)->flow;
    try {
        f.state.write(&flow_state, sizeof flow_state, 0);
        f.state.sync(XCL_BO_SYNC_BO_TO_DEVICE);
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

const hls_kernels::FlowParseCounters *xrt_flow_counters(void *state) {
    return &static_cast<XrtState *>(state)->flow.last;
}

void xrt_destroy(void *state) {
    delete static_cast<XrtState *>(state);
}

constexpr OffloadBackendOps kXrtOps = {
    "xrt", xrt_process, xrt_process_flows, xrt_load_flow_state, xrt_flow_counters, xrt_destroy};

}  // namespace

std::unique_ptr<OffloadBackend> open_xrt_backend(const BackendConfig &cfg, std::string &why) {
    if (cfg.xclbin.empty()) {
        why = "no xclbin configured (offload.xclbin)";
        return nullptr;
    }
    try {
        auto *s = new XrtState{};
        std::unique_ptr<XrtState> guard(s);
        s->device = xrt::device(0);
        const auto uuid = s->device.load_xclbin(cfg.xclbin);
        s->kernel = xrt::kernel(s->device, uuid, "syslog_parse");
        for (Slot &slot : s->slots) {
            slot.ingest = xrt::bo(s->device, kIngestBytes, s->kernel.group_id(0));
            slot.descriptors = xrt::bo(s->device, kDescriptorBytes, s->kernel.group_id(1));
            slot.counters =
                xrt::bo(s->device, sizeof(hls_kernels::SyslogParseCounters), s->kernel.group_id(3));
            std::memset(slot.counters.map<void *>(), 0, sizeof(hls_kernels::SyslogParseCounters));
            slot.counters.sync(XCL_BO_SYNC_BO_TO_DEVICE);
            slot.run = xrt::run(s->kernel);
            slot.run.set_arg(0, slot.ingest);
            slot.run.set_arg(1, slot.descriptors);
            slot.run.set_arg(2, cfg.rfc3164_utc_offset_s);
            slot.run.set_arg(3, slot.counters);
        }
        FlowEngine &f = s->flow;
        f.kernel = xrt::kernel(s->device, uuid, "flow_parse");
        f.ingest = xrt::bo(s->device, kIngestBytes, f.kernel.group_id(0));
        f.items = xrt::bo(s->device, size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBytes,
                          f.kernel.group_id(1));
        f.state = xrt::bo(s->device, sizeof(wire::FlowParseState), f.kernel.group_id(4));
        f.counters =
            xrt::bo(s->device, sizeof(hls_kernels::FlowParseCounters), f.kernel.group_id(5));
        std::memset(f.state.map<void *>(), 0, sizeof(wire::FlowParseState));
        f.state.sync(XCL_BO_SYNC_BO_TO_DEVICE);  // an empty store, once
        std::memset(f.counters.map<void *>(), 0, sizeof(hls_kernels::FlowParseCounters));
        f.counters.sync(XCL_BO_SYNC_BO_TO_DEVICE);
        hls_kernels::FlowParseConfig flow_config{cfg.template_timeout_ns};
        f.run = xrt::run(f.kernel);
        f.run.set_arg(0, f.ingest);
        f.run.set_arg(1, f.items);
        f.run.set_arg(2, wire::kMaxFlowItemsPerBatch);
        f.run.set_arg(3, flow_config);
        f.run.set_arg(4, f.state);
        f.run.set_arg(5, f.counters);
        guard.release();
        return std::make_unique<OffloadBackend>(&kXrtOps, s);
    } catch (const std::exception &e) {
        why = e.what();
        return nullptr;
    }
}

}  // namespace tapsift::drivers
