// Why the records of a batch the device did not return are lost: its run timed out, or it failed
// (or returned a short batch, or items the host rejects).
#pragma once

#include "metrics/counters.hpp"
#include "offload_backend.hpp"

namespace tapsift::pipeline {

inline Dropped lost_reason(drivers::BatchStatus status) {
    return status == drivers::BatchStatus::kTimedOut ? Dropped::kBackendTimeout
                                                     : Dropped::kBackendError;
}

}  // namespace tapsift::pipeline
