// Cycle model of flow_parse: an estimate of what the kernel would take in hardware, from the work
// C simulation counts. Assumptions (docs/cycle-model.md):
//   - the payload load loop and the item write loop are PIPELINE II=1: one beat per cycle;
//   - a record of a fixed-length template is one cycle: its core fields sit at offsets known
//     when the template was stored, and are read in parallel from the datagram's buffer;
//   - a field-by-field iteration (template field lists, variable-length records) is one cycle;
//   - a set costs kSetFixedCycles (header, and the 8-way template lookup), a datagram
//     kDatagramFixedCycles (header, exporter options lookup);
//   - nothing overlaps between stages (no dataflow), so this is a floor for this structure.
#pragma once

#include <cstdint>

#include "flow_parse.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::hls_kernels {

constexpr uint64_t kSetFixedCycles = 4;
constexpr uint64_t kDatagramFixedCycles = 4;

inline uint64_t estimated_cycles(const FlowParseCounters &c) {
    return c.beats_in + c.items * wire::kDescriptorBeats + c.records + c.field_steps +
           c.sets * kSetFixedCycles + c.packets * kDatagramFixedCycles;
}

}  // namespace tapsift::hls_kernels
