// The offload boundary: an ingest batch goes in; a syslog batch gives one descriptor per record,
// a flow batch gives flow items (wire/flow_descriptor.hpp). Each backend is one small file behind
// this struct of function pointers (as DPDK's PMD ops).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "flow_parse/flow_parse.hpp"

namespace tapsift::drivers {

enum class BackendKind { kAuto, kCpu, kXrt };

struct BackendConfig {
    BackendKind kind = BackendKind::kAuto;
    std::string xclbin;  // xrt only
    int32_t rfc3164_utc_offset_s = 0;
    int64_t template_timeout_ns = 5400LL * 1000000000;
};

struct OffloadBackendOps {
    const char *name;
    // Parses one ingest batch into descriptors (wire::kDescriptorBytes each).
    // Returns the number of descriptors written, or -1 when the device failed.
    int (*process)(void *state, const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *descriptors);
    // Decodes one flow ingest batch into at most wire::kMaxFlowItemsPerBatch flow items.
    // Returns the number written, or -1 when the device failed.
    int (*process_flows)(void *state, const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *items);
    // Loads saved flow templates and sampling rates into the flow engine's memory, once, before
    // the first flow batch. The engine's state is never read back: the host keeps its own copy
    // from the change items the kernel returns (host/flow/template_mirror). False when the
    // device failed.
    bool (*load_flow_state)(void *state, const wire::FlowParseState &flow_state);
    const hls_kernels::FlowParseCounters *(*flow_counters)(void *state);
    void (*destroy)(void *state);
};

class OffloadBackend {
  public:
    OffloadBackend(const OffloadBackendOps *ops, void *state) : ops_(ops), state_(state) {}
    ~OffloadBackend() { ops_->destroy(state_); }
    OffloadBackend(const OffloadBackend &) = delete;
    OffloadBackend &operator=(const OffloadBackend &) = delete;

    const char *name() const { return ops_->name; }
    int process(const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *descriptors) {
        return ops_->process(state_, ingest, ingest_bytes, descriptors);
    }
    int process_flows(const uint8_t *ingest, uint32_t ingest_bytes, uint8_t *items) {
        return ops_->process_flows(state_, ingest, ingest_bytes, items);
    }
    bool load_flow_state(const wire::FlowParseState &flow_state) {
        return ops_->load_flow_state(state_, flow_state);
    }
    const hls_kernels::FlowParseCounters &flow_counters() const {
        return *ops_->flow_counters(state_);
    }

  private:
    const OffloadBackendOps *ops_;
    void *state_;
};

// Each returns nullptr and sets why when the backend cannot run here.
std::unique_ptr<OffloadBackend> open_cpu_backend(const BackendConfig &cfg, std::string &why);
std::unique_ptr<OffloadBackend> open_xrt_backend(const BackendConfig &cfg, std::string &why);

// auto: xrt when a card and an xclbin are present, else cpu (the reason is logged).
// cpu/xrt: exactly that backend, or nullptr with why.
std::unique_ptr<OffloadBackend> open_backend(const BackendConfig &cfg, std::string &why);

BackendKind parse_backend_kind(const std::string &s, bool &ok);

}  // namespace tapsift::drivers
