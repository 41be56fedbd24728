#include "scripted_backend.hpp"

#include <cstring>

#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::testing {

ScriptedBackend::ScriptedBackend(Device device)
    : device_(std::move(device)),
      ingest_(size_t{wire::kMaxBatchBeats} * wire::kBeatBytes),
      output_(size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBytes) {}

const drivers::OffloadBackendOps ScriptedBackend::kOps = {
    "scripted",
    [](void *, const uint8_t *, uint64_t) { return true; },
    [](void *, const wire::FlowParseState &) { return true; },
    [](void *state, drivers::BatchKind kind, const uint8_t *ingest, uint32_t bytes) {
        auto *s = static_cast<ScriptedBackend *>(state);
        if (s->pending_) return false;
        std::memcpy(s->ingest_.data(), ingest, bytes);
        const uint32_t n = s->device_(kind, s->ingest_.data(), s->output_.data());
        s->result_ = {kind, s->status, n, s->ingest_.data(), s->output_.data()};
        s->pending_ = true;
        return true;
    },
    [](void *state, bool, drivers::BatchResult *out) {
        auto *s = static_cast<ScriptedBackend *>(state);
        if (!s->pending_) return false;
        s->pending_ = false;
        *out = s->result_;
        return true;
    },
    [](void *state) -> const drivers::BackendCounters * {
        return &static_cast<ScriptedBackend *>(state)->counters_;
    },
    [](void *) {},
};

std::unique_ptr<drivers::OffloadBackend> ScriptedBackend::open() {
    return std::make_unique<drivers::OffloadBackend>(&kOps, this);
}

}  // namespace tapsift::testing
