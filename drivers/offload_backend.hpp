// The offload boundary. An ingest batch goes in (submit) and its outputs come back, in submission
// order (collect): one descriptor per record for a syslog batch, flow items for a flow batch,
// sFlow items (wire/sflow_sample.hpp) for an sFlow batch.
// Parse and prefilter run behind this interface as one offloaded stage, with the rule tables the
// host loaded (load_tables). Each backend is one small file behind this struct of function
// pointers (as DPDK's PMD ops).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "flow_parse/flow_parse.hpp"
#include "prefilter/prefilter.hpp"
#include "sflow_parse/sflow_parse.hpp"
#include "syslog_parse/syslog_parse.hpp"

namespace tapsift::drivers {

enum class BackendKind { kAuto, kCpu, kXrt };

// What the xrt backend drives: a card through Debian's XRT (tapsift_xrt_card.so), or tapsift's
// emulated card (tapsift_xrt_emulated.so, README "The emulated card").
enum class XrtDevice { kCard, kEmulated };

struct BackendConfig {
    BackendKind kind = BackendKind::kAuto;
    std::string xclbin;  // xrt only; with the emulated card, empty means its own xclbin
    int32_t rfc3164_utc_offset_s = 0;
    int64_t template_timeout_ns = 5400LL * 1000000000;
    XrtDevice device = XrtDevice::kCard;
    uint32_t engines = 1;            // xrt: syslog compute units the batches are spread over
    uint32_t ring_slots = 3;         // xrt: batches in flight at most
    uint32_t lcore_index = 0;        // xrt: picks this lcore's flow compute unit
    uint32_t run_timeout_ms = 1000;  // xrt: a run not finished by then is aborted
};

// kFlow and kSflow batches both run on the lcore's flow compute unit (flow_sift), in order.
enum class BatchKind : uint8_t { kSyslog, kFlow, kSflow };

// The bytes of one output of a batch of this kind.
constexpr uint32_t output_bytes(BatchKind kind) {
    return kind == BatchKind::kSflow ? wire::kSflowItemBytes : wire::kDescriptorBytes;
}

enum class BatchStatus : uint8_t {
    kDone,
    kDeviceError,  // the run failed: its records are lost, and counted
    kTimedOut,     // the run did not finish within run_timeout_ms and was aborted
};

// A collected batch. ingest and output point into the backend's slot and stay valid until the
// next submit or collect.
struct BatchResult {
    BatchKind kind;
    BatchStatus status;
    uint32_t outputs;       // descriptors, flow items or sFlow items written (kDone)
    const uint8_t *ingest;  // the batch as submitted
    const uint8_t *output;  // outputs x output_bytes(kind)
};

// Totals over every collected batch.
struct BackendCounters {
    hls_kernels::SyslogParseCounters syslog;
    hls_kernels::FlowParseCounters flow;
    hls_kernels::SflowParseCounters sflow;
    hls_kernels::PrefilterCounters prefilter;
    uint64_t bad_tables;     // batches sifted without rules: the table image was not valid
    uint64_t batches;        // collected
    uint64_t ring_full;      // submits refused because every slot was in flight
    uint64_t timeouts;       // runs aborted after run_timeout_ms
    uint64_t device_errors;  // runs that failed
};

struct OffloadBackendOps {
    const char *name;
    // The prefilter tables (a wire/prefilter_image.hpp image), copied to the device. Only while
    // no batch is in flight, so tables never change under a batch. False when the device failed.
    bool (*load_tables)(void *state, const uint8_t *image, uint64_t bytes);
    // Saved flow templates and sampling rates into the flow engine's memory (device memory on a
    // card), once, before the first flow batch. The engine keeps its state there across batches
    // and it is never read back: the host keeps its own copy from the change items the kernel
    // returns (host/flow/template_mirror). False when the device failed or a batch is in flight.
    bool (*load_flow_state)(void *state, const wire::FlowParseState &flow_state);
    // Copies the batch into a free slot and starts it. False when every slot is in flight:
    // collect first.
    bool (*submit)(void *state, BatchKind kind, const uint8_t *ingest, uint32_t bytes);
    // The oldest batch in flight, once finished; with wait, waits for it (at most the run
    // timeout). False when none is in flight, or (without wait) the oldest has not finished.
    bool (*collect)(void *state, bool wait, BatchResult *out);
    const BackendCounters *(*counters)(void *state);
    void (*destroy)(void *state);
};

class OffloadBackend {
  public:
    OffloadBackend(const OffloadBackendOps *ops, void *state) : ops_(ops), state_(state) {}
    ~OffloadBackend() { ops_->destroy(state_); }
    OffloadBackend(const OffloadBackend &) = delete;
    OffloadBackend &operator=(const OffloadBackend &) = delete;

    const char *name() const { return ops_->name; }
    bool load_tables(const uint8_t *image, uint64_t bytes) {
        return ops_->load_tables(state_, image, bytes);
    }
    bool load_flow_state(const wire::FlowParseState &flow_state) {
        return ops_->load_flow_state(state_, flow_state);
    }
    bool submit(BatchKind kind, const uint8_t *ingest, uint32_t bytes) {
        return ops_->submit(state_, kind, ingest, bytes);
    }
    bool collect(bool wait, BatchResult &out) { return ops_->collect(state_, wait, &out); }
    // One batch there and back, with nothing else in flight (explain, tests).
    bool run_one(BatchKind kind, const uint8_t *ingest, uint32_t bytes, BatchResult &out) {
        return submit(kind, ingest, bytes) && collect(true, out) &&
               out.status == BatchStatus::kDone;
    }
    const BackendCounters &counters() const { return *ops_->counters(state_); }

  private:
    const OffloadBackendOps *ops_;
    void *state_;
};

// Each returns nullptr and sets why when the backend cannot run here.
std::unique_ptr<OffloadBackend> open_cpu_backend(const BackendConfig &cfg, std::string &why);
std::unique_ptr<OffloadBackend> open_xrt_backend(const BackendConfig &cfg, std::string &why);

// Loads the xrt backend's shared object for cfg.device and opens the backend through it.
std::unique_ptr<OffloadBackend> load_xrt_backend(const BackendConfig &cfg, std::string &why);

// auto: xrt when a card and an xclbin are present, else cpu (the reason is logged).
// cpu/xrt: exactly that backend, or nullptr with why.
std::unique_ptr<OffloadBackend> open_backend(const BackendConfig &cfg, std::string &why);

BackendKind parse_backend_kind(const std::string &s, bool &ok);
XrtDevice parse_xrt_device(const std::string &s, bool &ok);

// Adds to total what a kernel's accumulating counters gained since last (both arrays of
// uint64_t), and moves last on.
template <typename KernelCounters>
void add_counter_delta(const KernelCounters &now, KernelCounters &last, KernelCounters &total) {
    static_assert(sizeof(KernelCounters) % sizeof(uint64_t) == 0, "counters are uint64_t");
    const auto *n = reinterpret_cast<const uint64_t *>(&now);
    auto *l = reinterpret_cast<uint64_t *>(&last);
    auto *t = reinterpret_cast<uint64_t *>(&total);
    for (size_t i = 0; i < sizeof(KernelCounters) / sizeof(uint64_t); ++i) {
        t[i] += n[i] - l[i];
        l[i] = n[i];
    }
}

// The same for a sift kernel's counters (parse, prefilter, bad_tables), into the backend's totals.
template <typename SiftCounters, typename ParseCounters>
void add_sift_delta(const SiftCounters &now, SiftCounters &last, ParseCounters &parse_total,
                    BackendCounters &totals) {
    add_counter_delta(now.parse, last.parse, parse_total);
    add_counter_delta(now.prefilter, last.prefilter, totals.prefilter);
    totals.bad_tables += now.bad_tables - last.bad_tables;
    last.bad_tables = now.bad_tables;
}

// flow_sift's counters: both decoders' and the prefilter's. Returns the items (flow or sFlow)
// the runs since last wrote.
template <typename FlowSiftCounters>
uint64_t add_flow_sift_delta(const FlowSiftCounters &now, FlowSiftCounters &last,
                             BackendCounters &totals) {
    const uint64_t items =
        (now.parse.items - last.parse.items) + (now.sflow.items - last.sflow.items);
    add_sift_delta(now, last, totals.flow, totals);
    add_counter_delta(now.sflow, last.sflow, totals.sflow);
    return items;
}

}  // namespace tapsift::drivers

// The entry point each xrt backend shared object exports (dlsym'd by load_xrt_backend): the
// backend, owned by the caller, or nullptr with *why set.
extern "C" tapsift::drivers::OffloadBackend *tapsift_open_xrt_backend(
    const tapsift::drivers::BackendConfig *cfg, std::string *why);
