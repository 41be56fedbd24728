// cpu backend: the card's kernels (syslog_sift, flow_sift) compiled for the host. C simulation,
// and the production path where there is no card. One slot: a batch runs at submit, in the
// caller's thread, and waits there to be collected.
#include <cstdlib>
#include <cstring>
#include <memory>

#include "flow_sift/flow_sift.hpp"
#include "offload_backend.hpp"
#include "syslog_sift/syslog_sift.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/prefilter_image.hpp"

namespace tapsift::drivers {
namespace {

struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
};
using BeatBuffer = std::unique_ptr<uint8_t, FreeDeleter>;

BeatBuffer beat_buffer(size_t bytes) {
    const size_t rounded = (bytes + wire::kBeatBytes - 1) / wire::kBeatBytes * wire::kBeatBytes;
    return BeatBuffer(static_cast<uint8_t *>(std::aligned_alloc(wire::kBeatBytes, rounded)));
}

struct CpuState {
    int32_t rfc3164_utc_offset_s;
    hls_kernels::FlowParseConfig flow_config;
    BeatBuffer ingest = beat_buffer(size_t{wire::kMaxBatchBeats} * wire::kBeatBytes);
    BeatBuffer output = beat_buffer(size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBytes);
    BeatBuffer tables;  // the "device memory" copy of the table image
    uint64_t tables_capacity = 0;
    bool pending = false;  // the slot holds a batch not yet collected
    BatchResult result{};
    hls_kernels::SyslogSiftCounters syslog{}, syslog_last{};
    hls_kernels::FlowSiftCounters flow{}, flow_last{};
    BackendCounters totals{};
    // The card's template memory (4.8 MiB), kept across batches; the host never reads it.
    wire::FlowParseState flow_state;
};

// ap_uint<512> has the layout of 64 little-endian bytes, so buffers are read in place.
hls_kernels::beat_t *beats(uint8_t *p) {
    return reinterpret_cast<hls_kernels::beat_t *>(p);
}

bool cpu_load_tables(void *state, const uint8_t *image, uint64_t bytes) {
    auto *s = static_cast<CpuState *>(state);
    if (bytes > s->tables_capacity) {
        s->tables = beat_buffer(bytes);
        s->tables_capacity = bytes;
    }
    std::memcpy(s->tables.get(), image, bytes);
    return true;
}

bool cpu_submit(void *state, BatchKind kind, const uint8_t *ingest, uint32_t bytes) {
    auto *s = static_cast<CpuState *>(state);
    if (s->pending) {
        s->totals.ring_full++;
        return false;
    }
    std::memcpy(s->ingest.get(), ingest, bytes);
    uint32_t outputs = 0;
    if (kind == BatchKind::kSyslog) {
        const uint64_t before = s->syslog.parse.records;
        hls_kernels::syslog_sift(beats(s->ingest.get()), beats(s->output.get()),
                                 s->rfc3164_utc_offset_s, beats(s->tables.get()), &s->syslog);
        outputs = static_cast<uint32_t>(s->syslog.parse.records - before);
        add_sift_delta(s->syslog, s->syslog_last, s->totals.syslog, s->totals);
    } else {  // flow or sFlow: flow_sift picks the decoder by the batch's records
        hls_kernels::flow_sift(beats(s->ingest.get()), beats(s->output.get()),
                               wire::kMaxFlowItemsPerBatch, s->flow_config, &s->flow_state,
                               beats(s->tables.get()), &s->flow);
        outputs = static_cast<uint32_t>(add_flow_sift_delta(s->flow, s->flow_last, s->totals));
    }
    s->result = {kind, BatchStatus::kDone, outputs, s->ingest.get(), s->output.get()};
    s->pending = true;
    return true;
}

bool cpu_collect(void *state, bool /*wait*/, BatchResult *out) {
    auto *s = static_cast<CpuState *>(state);
    if (!s->pending) return false;
    s->pending = false;
    s->totals.batches++;
    *out = s->result;
    return true;
}

bool cpu_load_flow_state(void *state, const wire::FlowParseState &flow_state) {
    auto *s = static_cast<CpuState *>(state);
    if (s->pending) return false;
    s->flow_state = flow_state;
    return true;
}

const BackendCounters *cpu_counters(void *state) {
    return &static_cast<CpuState *>(state)->totals;
}

void cpu_destroy(void *state) {
    delete static_cast<CpuState *>(state);
}

constexpr OffloadBackendOps kCpuOps = {"cpu",      cpu_load_tables, cpu_load_flow_state,
                                       cpu_submit, cpu_collect,     cpu_counters,
                                       cpu_destroy};

static_assert(sizeof(hls_kernels::beat_t) == wire::kBeatBytes, "beat_t must be exactly one beat");

}  // namespace

std::unique_ptr<OffloadBackend> open_cpu_backend(const BackendConfig &cfg, std::string & /*why*/) {
    auto *s = new CpuState{};
    s->rfc3164_utc_offset_s = cfg.rfc3164_utc_offset_s;
    s->flow_config.template_timeout_ns = cfg.template_timeout_ns;
    // Until the host loads its ruleset: a valid image with no rules (everything forwarded).
    const wire::PrefilterImageHeader empty = wire::empty_prefilter_image();
    cpu_load_tables(s, reinterpret_cast<const uint8_t *>(&empty), sizeof empty);
    return std::make_unique<OffloadBackend>(&kCpuOps, s);
}

}  // namespace tapsift::drivers
