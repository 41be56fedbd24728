// Cycle model of syslog_parse: an estimate of what the kernel would take in hardware, from the
// work C simulation counts. Assumptions (docs/cycle-model.md):
//   - each loop marked PIPELINE II=1 issues one iteration per cycle: one payload beat, one
//     next-space beat, one structured-data or tag byte;
//   - each record also costs its record-header beat, its two descriptor beats, and a fixed
//     kRecordFixedCycles for PRI, VERSION and TIMESTAMP, whose compares are unrolled;
//   - nothing overlaps between records (no dataflow between the stages), so this is a floor.
#pragma once

#include <cstdint>

#include "syslog_parse.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::hls_kernels {

constexpr uint64_t kRecordFixedCycles = 16;

inline uint64_t estimated_cycles(const SyslogParseCounters &c) {
    return c.beats_in + c.scan_steps + c.byte_steps +
           c.records * (wire::kDescriptorBeats + kRecordFixedCycles);
}

// Payload throughput the model implies at clock_hz, in Gb/s.
inline double estimated_gbps(const SyslogParseCounters &c, uint64_t payload_bytes,
                             double clock_hz) {
    const uint64_t cycles = estimated_cycles(c);
    return cycles == 0 ? 0.0
                       : static_cast<double>(payload_bytes) * 8.0 * clock_hz /
                             static_cast<double>(cycles) / 1e9;
}

}  // namespace tapsift::hls_kernels
