// xrt backend: a card through the XRT native API. A ring of slots, each with its buffers and one
// xrt::run per kernel whose arguments are bound once (as Vitis_Accel_Examples' iops_test_xrt):
// while the card runs one batch, the host fills the next and drains the one before. Syslog
// batches go round the syslog_sift compute units (engines); flow and sFlow batches go to this
// lcore's flow_sift unit, in order, since flow batches share its template store. That store is a
// device_only buffer: filled once at open (empty, or the templates the host restored), then kept by
// the kernel across runs and never synced; the host learns its changes from the flow items. Batches
// are collected in submission order, which keeps each source's events in order.
//
// Built twice from this one source: against Debian's XRT (tapsift_xrt_card.so) and against
// tapsift's emulated card (tapsift_xrt_emulated.so).
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "flow_sift/flow_sift.hpp"
#include "offload_backend.hpp"
#include "syslog_sift/syslog_sift.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/prefilter_image.hpp"

namespace tapsift::drivers {
namespace {

constexpr size_t kIngestBytes = size_t{wire::kMaxBatchBeats} * wire::kBeatBytes;
constexpr size_t kDescriptorBytes = size_t{wire::kMaxRecordsPerBatch} * wire::kDescriptorBytes;
constexpr size_t kItemBytes = size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBytes;

// syslog_sift's and flow_sift's argument indexes (hls-kernels/interface describes them).
enum SyslogArg { kSyslogIngest, kSyslogDescriptors, kSyslogUtcOffset, kSyslogTables, kSyslogCtr };
enum FlowArg {
    kFlowIngest,
    kFlowItems,
    kFlowMaxItems,
    kFlowConfig,
    kFlowState,
    kFlowTables,
    kFlowCtr
};

constexpr const char *kSyslogSift = "syslog_sift";
constexpr const char *kFlowSift = "flow_sift";

// XRT's messages do not always say which argument they are about (an index past the xclbin's
// arguments is a std::out_of_range from a vector): these add the kernel and the index.
[[noreturn]] void rethrow_for(const char *kernel, int arg, const std::exception &e) {
    throw std::runtime_error(std::string(kernel) + " argument " + std::to_string(arg) + ": " +
                             e.what());
}

int bank(const xrt::kernel &k, const char *kernel, int arg) {
    try {
        return k.group_id(arg);
    } catch (const std::exception &e) {
        rethrow_for(kernel, arg, e);
    }
}

// Buffer sizes in whole 4 KiB pages: XRT allocates a buffer's host side with aligned_alloc(4096,
// size), which C11 (and ASan) require to be a multiple of the alignment; a card maps pages anyway.
size_t page_bytes(size_t bytes) {
    constexpr size_t kPage = 4096;
    return (bytes + kPage - 1) / kPage * kPage;
}

template <typename T>
void bind(xrt::run &run, const char *kernel, int arg, const T &value) {
    try {
        run.set_arg(arg, value);
    } catch (const std::exception &e) {
        rethrow_for(kernel, arg, e);
    }
}

// Each compute unit reaches only its own memory banks, so a slot has buffers for each kernel.
struct Slot {
    xrt::bo syslog_ingest;
    xrt::bo descriptors;
    xrt::bo flow_ingest;
    xrt::bo items;
    xrt::bo syslog_counters;
    xrt::bo flow_counters;
    xrt::run syslog_run;
    xrt::run flow_run;
    BatchKind kind = BatchKind::kSyslog;
    bool started = false;  // false: the device refused the batch, collect reports it failed
    // The kernels accumulate into this slot's counters; what they held after its last run.
    hls_kernels::SyslogSiftCounters syslog_last{};
    hls_kernels::FlowSiftCounters flow_last{};
};

struct XrtState {
    xrt::device device;
    std::vector<xrt::kernel> syslog_units;
    xrt::kernel flow_unit;
    // The prefilter tables, one copy in each unit's banks: the syslog units', then the flow unit's.
    std::vector<xrt::bo> tables;
    uint64_t tables_capacity = 0;
    xrt::bo flow_state;  // device_only: the flow engine's template store
    std::vector<Slot> slots;
    size_t head = 0;  // the oldest batch in flight
    size_t in_flight = 0;
    std::chrono::milliseconds run_timeout{1000};
    BackendCounters totals{};
};

void allocate_tables(XrtState &s, uint64_t bytes) {
    s.tables.clear();
    for (const xrt::kernel &unit : s.syslog_units)
        s.tables.emplace_back(s.device, page_bytes(bytes), bank(unit, kSyslogSift, kSyslogTables));
    s.tables.emplace_back(s.device, page_bytes(bytes), bank(s.flow_unit, kFlowSift, kFlowTables));
    s.tables_capacity = bytes;
}

void bind_tables(XrtState &s, size_t slot) {
    bind(s.slots[slot].syslog_run, kSyslogSift, kSyslogTables,
         s.tables[slot % s.syslog_units.size()]);
    bind(s.slots[slot].flow_run, kFlowSift, kFlowTables, s.tables.back());
}

bool xrt_load_tables(void *state, const uint8_t *image, uint64_t bytes) {
    auto *s = static_cast<XrtState *>(state);
    if (s->in_flight > 0) return false;
    try {
        if (bytes > s->tables_capacity) {
            allocate_tables(*s, bytes);
            for (size_t i = 0; i < s->slots.size(); ++i) bind_tables(*s, i);
        }
        for (xrt::bo &copy : s->tables) {
            copy.write(image, bytes, 0);
            copy.sync(XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0);
        }
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

bool xrt_submit(void *state, BatchKind kind, const uint8_t *ingest, uint32_t bytes) {
    auto *s = static_cast<XrtState *>(state);
    if (s->in_flight == s->slots.size()) {
        s->totals.ring_full++;
        return false;
    }
    Slot &slot = s->slots[(s->head + s->in_flight) % s->slots.size()];
    slot.kind = kind;
    slot.started = false;
    s->in_flight++;
    try {
        xrt::bo &in = kind == BatchKind::kSyslog ? slot.syslog_ingest : slot.flow_ingest;
        in.write(ingest, bytes, 0);
        in.sync(XCL_BO_SYNC_BO_TO_DEVICE, bytes, 0);
        if (kind == BatchKind::kSyslog) {
            slot.syslog_run.start();
        } else {
            slot.flow_run.start();
        }
        slot.started = true;
    } catch (const std::exception &) {
        // Not started: collect reports it as failed, in its place in the order.
    }
    return true;
}

// Syncs the slot's counters and outputs back; returns the outputs the run wrote.
uint32_t read_back(XrtState &s, Slot &slot) {
    uint64_t written = 0;
    if (slot.kind == BatchKind::kSyslog) {
        hls_kernels::SyslogSiftCounters now;
        slot.syslog_counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
        slot.syslog_counters.read(&now, sizeof now, 0);
        written = now.parse.records - slot.syslog_last.parse.records;
        add_sift_delta(now, slot.syslog_last, s.totals.syslog, s.totals);
    } else {
        hls_kernels::FlowSiftCounters now;
        slot.flow_counters.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
        slot.flow_counters.read(&now, sizeof now, 0);
        written = add_flow_sift_delta(now, slot.flow_last, s.totals);
    }
    uint64_t capacity = wire::kMaxRecordsPerBatch;
    if (slot.kind == BatchKind::kFlow) capacity = wire::kMaxFlowItemsPerBatch;
    if (slot.kind == BatchKind::kSflow)
        capacity = hls_kernels::sflow_item_capacity(wire::kMaxFlowItemsPerBatch);
    if (written > capacity) written = capacity;  // a device gone wrong: the host validates
    if (written > 0) {
        xrt::bo &out = slot.kind == BatchKind::kSyslog ? slot.descriptors : slot.items;
        out.sync(XCL_BO_SYNC_BO_FROM_DEVICE, written * output_bytes(slot.kind), 0);
    }
    return static_cast<uint32_t>(written);
}

bool xrt_collect(void *state, bool wait, BatchResult *out) {
    auto *s = static_cast<XrtState *>(state);
    if (s->in_flight == 0) return false;
    Slot &slot = s->slots[s->head];
    xrt::run &run = slot.kind == BatchKind::kSyslog ? slot.syslog_run : slot.flow_run;
    BatchStatus status = BatchStatus::kDone;
    uint32_t outputs = 0;
    try {
        ert_cmd_state st = slot.started ? run.state() : ERT_CMD_STATE_ERROR;
        if (st != ERT_CMD_STATE_COMPLETED && st != ERT_CMD_STATE_ERROR &&
            st != ERT_CMD_STATE_ABORT) {
            if (!wait) return false;
            st = run.wait(s->run_timeout);
        }
        if (st == ERT_CMD_STATE_TIMEOUT) {
            run.abort();
            status = BatchStatus::kTimedOut;
            s->totals.timeouts++;
        } else if (st != ERT_CMD_STATE_COMPLETED) {
            status = BatchStatus::kDeviceError;
            s->totals.device_errors++;
        } else {
            outputs = read_back(*s, slot);
        }
    } catch (const std::exception &) {
        status = BatchStatus::kDeviceError;
        s->totals.device_errors++;
    }
    s->head = (s->head + 1) % s->slots.size();
    s->in_flight--;
    s->totals.batches++;
    const bool syslog = slot.kind == BatchKind::kSyslog;
    *out = {slot.kind, status, outputs,
            (syslog ? slot.syslog_ingest : slot.flow_ingest).map<const uint8_t *>(),
            (syslog ? slot.descriptors : slot.items).map<const uint8_t *>()};
    return true;
}

// Fills the device_only template store from a host buffer (zeros when state is nullptr): one DMA
// and a copy inside the card, only while no flow run uses the store.
void upload_flow_state(XrtState &s, const wire::FlowParseState *state) {
    xrt::bo staging(s.device, page_bytes(sizeof(wire::FlowParseState)),
                    bank(s.flow_unit, kFlowSift, kFlowState));
    if (state != nullptr) {
        staging.write(state, sizeof *state, 0);
    } else {
        std::memset(staging.map<void *>(), 0, sizeof(wire::FlowParseState));
    }
    staging.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    s.flow_state.copy(staging);
}

bool xrt_load_flow_state(void *state, const wire::FlowParseState &flow_state) {
    auto *s = static_cast<XrtState *>(state);
    if (s->in_flight > 0) return false;
    try {
        upload_flow_state(*s, &flow_state);
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

const BackendCounters *xrt_counters(void *state) {
    return &static_cast<XrtState *>(state)->totals;
}

void xrt_destroy(void *state) {
    auto *s = static_cast<XrtState *>(state);
    BatchResult ignored;
    while (xrt_collect(s, true, &ignored)) {
    }
    delete s;
}

constexpr OffloadBackendOps kXrtOps = {"xrt",      xrt_load_tables, xrt_load_flow_state,
                                       xrt_submit, xrt_collect,     xrt_counters,
                                       xrt_destroy};

// This lcore's flow_sift unit, or any when the xclbin has fewer units than lcores.
xrt::kernel open_flow_unit(const xrt::device &device, const xrt::uuid &uuid, uint32_t lcore) {
    try {
        const std::string cu = std::string(kFlowSift) + "_" + std::to_string(lcore + 1);
        return xrt::kernel(device, uuid, std::string(kFlowSift) + ":{" + cu + "}");
    } catch (const std::exception &) {
        return xrt::kernel(device, uuid, kFlowSift);
    }
}

template <typename T>
xrt::bo zeroed_bo(const xrt::device &device, const xrt::kernel &k, const char *kernel, int arg) {
    xrt::bo bo(device, page_bytes(sizeof(T)), bank(k, kernel, arg));
    std::memset(bo.map<void *>(), 0, sizeof(T));
    bo.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    return bo;
}

void open_slot(XrtState &s, Slot &slot, const xrt::kernel &syslog_unit, const BackendConfig &cfg,
               const hls_kernels::FlowParseConfig &flow_config) {
    slot.syslog_ingest =
        xrt::bo(s.device, page_bytes(kIngestBytes), bank(syslog_unit, kSyslogSift, kSyslogIngest));
    slot.descriptors = xrt::bo(s.device, page_bytes(kDescriptorBytes),
                               bank(syslog_unit, kSyslogSift, kSyslogDescriptors));
    slot.flow_ingest =
        xrt::bo(s.device, page_bytes(kIngestBytes), bank(s.flow_unit, kFlowSift, kFlowIngest));
    slot.items =
        xrt::bo(s.device, page_bytes(kItemBytes), bank(s.flow_unit, kFlowSift, kFlowItems));
    slot.syslog_counters =
        zeroed_bo<hls_kernels::SyslogSiftCounters>(s.device, syslog_unit, kSyslogSift, kSyslogCtr);
    slot.flow_counters =
        zeroed_bo<hls_kernels::FlowSiftCounters>(s.device, s.flow_unit, kFlowSift, kFlowCtr);
    slot.syslog_run = xrt::run(syslog_unit);
    bind(slot.syslog_run, kSyslogSift, kSyslogIngest, slot.syslog_ingest);
    bind(slot.syslog_run, kSyslogSift, kSyslogDescriptors, slot.descriptors);
    bind(slot.syslog_run, kSyslogSift, kSyslogUtcOffset, cfg.rfc3164_utc_offset_s);
    bind(slot.syslog_run, kSyslogSift, kSyslogCtr, slot.syslog_counters);
    slot.flow_run = xrt::run(s.flow_unit);
    bind(slot.flow_run, kFlowSift, kFlowIngest, slot.flow_ingest);
    bind(slot.flow_run, kFlowSift, kFlowItems, slot.items);
    bind(slot.flow_run, kFlowSift, kFlowMaxItems, wire::kMaxFlowItemsPerBatch);
    bind(slot.flow_run, kFlowSift, kFlowConfig, flow_config);
    bind(slot.flow_run, kFlowSift, kFlowState, s.flow_state);
    bind(slot.flow_run, kFlowSift, kFlowCtr, slot.flow_counters);
}

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
        s->run_timeout = std::chrono::milliseconds(cfg.run_timeout_ms);
        const xrt::uuid uuid = s->device.load_xclbin(cfg.xclbin);
        for (uint32_t e = 1; e <= cfg.engines; ++e) {
            const std::string cu = std::string(kSyslogSift) + "_" + std::to_string(e);
            s->syslog_units.emplace_back(s->device, uuid,
                                         std::string(kSyslogSift) + ":{" + cu + "}");
        }
        s->flow_unit = open_flow_unit(s->device, uuid, cfg.lcore_index);
        s->flow_state =
            xrt::bo(s->device, page_bytes(sizeof(wire::FlowParseState)),
                    xrt::bo::flags::device_only, bank(s->flow_unit, kFlowSift, kFlowState));
        upload_flow_state(*s, nullptr);
        const wire::PrefilterImageHeader empty = wire::empty_prefilter_image();
        allocate_tables(*s, sizeof empty);
        s->slots.resize(cfg.ring_slots);
        const hls_kernels::FlowParseConfig flow_config{cfg.template_timeout_ns};
        for (size_t i = 0; i < s->slots.size(); ++i) {
            open_slot(*s, s->slots[i], s->syslog_units[i % s->syslog_units.size()], cfg,
                      flow_config);
            bind_tables(*s, i);
        }
        if (!xrt_load_tables(s, reinterpret_cast<const uint8_t *>(&empty), sizeof empty)) {
            why = "the device refused the prefilter tables";
            return nullptr;
        }
        guard.release();
        return std::make_unique<OffloadBackend>(&kXrtOps, s);
    } catch (const std::exception &e) {
        why = e.what();
        return nullptr;
    }
}

}  // namespace tapsift::drivers
