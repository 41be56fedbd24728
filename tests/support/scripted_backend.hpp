// A backend whose device is a function of the test's: each batch is answered with whatever
// outputs the function writes, and the status the test sets, so the host side can be tested
// against a device gone wrong (spans outside the record, unknown verdicts, failed runs).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "offload_backend.hpp"

namespace tapsift::testing {

class ScriptedBackend {
  public:
    // Writes the batch's outputs (descriptors or flow items) and returns how many.
    using Device =
        std::function<uint32_t(drivers::BatchKind kind, const uint8_t *ingest, uint8_t *output)>;

    explicit ScriptedBackend(Device device);
    // A handle on this object (which must outlive it).
    std::unique_ptr<drivers::OffloadBackend> open();

    drivers::BatchStatus status = drivers::BatchStatus::kDone;  // what every batch ends with

  private:
    static const drivers::OffloadBackendOps kOps;
    Device device_;
    std::vector<uint8_t> ingest_, output_;
    drivers::BatchResult result_{};
    bool pending_ = false;
    drivers::BackendCounters counters_{};
};

}  // namespace tapsift::testing
