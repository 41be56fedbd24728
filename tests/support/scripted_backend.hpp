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

    // slots: batches in flight at most. The device answers each batch at submit, in submission
    // order; with more than one slot a batch is only collected by a collect that waits, so the
    // host keeps as many in flight as the ring holds (a card slower than the host).
    explicit ScriptedBackend(Device device, uint32_t slots = 1);
    // A handle on this object (which must outlive it).
    std::unique_ptr<drivers::OffloadBackend> open();

    drivers::BatchStatus status = drivers::BatchStatus::kDone;  // what every batch ends with

  private:
    struct Slot {
        std::vector<uint8_t> ingest, output;
        drivers::BatchResult result{};
    };
    static const drivers::OffloadBackendOps kOps;
    Device device_;
    std::vector<Slot> ring_;
    size_t head_ = 0;  // the oldest batch in flight
    size_t in_flight_ = 0;
    drivers::BackendCounters counters_{};
};

}  // namespace tapsift::testing
