// cpu backend: the kernels' own C++ compiled for the host (C simulation is the production path
// where there is no card).
#include <cstring>

#include "offload_backend.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::drivers {
namespace {

struct CpuState {
    int32_t rfc3164_utc_offset_s;
    hls_kernels::SyslogParseCounters counters;
    hls_kernels::FlowParseConfig flow_config;
    hls_kernels::FlowParseCounters flow_counters;
    wire::FlowParseState flow_state;  // about 4 MiB: the card's template memory
};

int cpu_process(void *state, const uint8_t *ingest, uint32_t /*ingest_bytes*/,
                uint8_t *descriptors) {
    auto *s = static_cast<CpuState *>(state);
    // ap_uint<512> has the layout of 64 little-endian bytes, so the batch is read in place.
    const auto *in = reinterpret_cast<const hls_kernels::beat_t *>(ingest);
    auto *out = reinterpret_cast<hls_kernels::beat_t *>(descriptors);
    const uint64_t before = s->counters.records;
    hls_kernels::syslog_parse(in, out, s->rfc3164_utc_offset_s, &s->counters);
    return static_cast<int>(s->counters.records - before);
}

int cpu_process_flows(void *state, const uint8_t *ingest, uint32_t /*ingest_bytes*/,
                      uint8_t *items) {
    auto *s = static_cast<CpuState *>(state);
    const auto *in = reinterpret_cast<const hls_kernels::beat_t *>(ingest);
    auto *out = reinterpret_cast<hls_kernels::beat_t *>(items);
    return static_cast<int>(hls_kernels::flow_parse(
        in, out, wire::kMaxFlowItemsPerBatch, s->flow_config, &s->flow_state, &s->flow_counters));
}

bool cpu_load_flow_state(void *state, const wire::FlowParseState &flow_state) {
    static_cast<CpuState *>(state)->flow_state = flow_state;
    return true;
}

const hls_kernels::FlowParseCounters *cpu_flow_counters(void *state) {
    return &static_cast<CpuState *>(state)->flow_counters;
}

void cpu_destroy(void *state) {
    delete static_cast<CpuState *>(state);
}

constexpr OffloadBackendOps kCpuOps = {
    "cpu", cpu_process, cpu_process_flows, cpu_load_flow_state, cpu_flow_counters, cpu_destroy};

static_assert(sizeof(hls_kernels::beat_t) == wire::kBeatBytes, "beat_t must be exactly one beat");

}  // namespace

std::unique_ptr<OffloadBackend> open_cpu_backend(const BackendConfig &cfg, std::string & /*why*/) {
    auto *s = new CpuState{};
    s->rfc3164_utc_offset_s = cfg.rfc3164_utc_offset_s;
    s->flow_config.template_timeout_ns = cfg.template_timeout_ns;
    return std::make_unique<OffloadBackend>(&kCpuOps, s);
}

}  // namespace tapsift::drivers
