#include "scripted_backend.hpp"

#include <cstring>

#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::testing {

ScriptedBackend::ScriptedBackend(Device device, uint32_t slots)
    : device_(std::move(device)), ring_(slots) {
    for (Slot &s : ring_) {
        s.ingest.resize(size_t{wire::kMaxBatchBeats} * wire::kBeatBytes);
        s.output.resize(size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBytes);
    }
}

const drivers::OffloadBackendOps ScriptedBackend::kOps = {
    "scripted",
    [](void *, const uint8_t *, uint64_t) { return true; },
    [](void *, const wire::FlowParseState &) { return true; },
    [](void *state, drivers::BatchKind kind, const uint8_t *ingest, uint32_t bytes) {
        auto *s = static_cast<ScriptedBackend *>(state);
        if (s->in_flight_ == s->ring_.size()) {
            s->counters_.ring_full++;
            return false;
        }
        Slot &slot = s->ring_[(s->head_ + s->in_flight_++) % s->ring_.size()];
        std::memcpy(slot.ingest.data(), ingest, bytes);
        const uint32_t n = s->device_(kind, slot.ingest.data(), slot.output.data());
        slot.result = {kind, s->status, n, slot.ingest.data(), slot.output.data()};
        return true;
    },
    [](void *state, bool wait, drivers::BatchResult *out) {
        auto *s = static_cast<ScriptedBackend *>(state);
        if (s->in_flight_ == 0 || (!wait && s->ring_.size() > 1)) return false;
        *out = s->ring_[s->head_].result;
        s->head_ = (s->head_ + 1) % s->ring_.size();
        s->in_flight_--;
        s->counters_.batches++;
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
