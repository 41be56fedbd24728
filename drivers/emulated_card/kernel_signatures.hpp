// Stand-in for the generated kernel interface table (branch iface, kernel_signatures.hpp): the
// same names and layout, so the swap is deleting this file. Argument order is the kernels' C++
// parameter order, which is XRT's argument index.
#pragma once

#include <cstdint>
#include <string_view>

#include "flow_parse/flow_parse.hpp"

namespace tapsift::kernel_interface {

enum class ArgKind : uint8_t { kBuffer, kScalar };

struct ArgSignature {
    const char *name;
    ArgKind kind;
    uint32_t size;   // bytes: a scalar's value, or 8 for a buffer's device address
    uint32_t group;  // the memory bank a buffer argument is connected to
};

struct KernelSignature {
    const char *name;
    uint32_t arg_count;
    const ArgSignature *args;
    uint32_t compute_units;  // named <name>_1 .. <name>_<compute_units>
};

inline constexpr ArgSignature kSyslogSiftArgs[] = {
    {"ingest", ArgKind::kBuffer, 8, 0},
    {"descriptors", ArgKind::kBuffer, 8, 1},
    {"rfc3164_utc_offset_s", ArgKind::kScalar, 4, 0},
    {"tables", ArgKind::kBuffer, 8, 2},
    {"counters", ArgKind::kBuffer, 8, 3},
};

inline constexpr ArgSignature kFlowSiftArgs[] = {
    {"ingest", ArgKind::kBuffer, 8, 0},
    {"items", ArgKind::kBuffer, 8, 1},
    {"max_items", ArgKind::kScalar, 4, 0},
    {"config", ArgKind::kScalar, sizeof(hls_kernels::FlowParseConfig), 0},
    {"state", ArgKind::kBuffer, 8, 2},
    {"tables", ArgKind::kBuffer, 8, 3},
    {"counters", ArgKind::kBuffer, 8, 3},
};

inline constexpr KernelSignature kKernels[] = {
    {"syslog_sift", 5, kSyslogSiftArgs, 4},
    {"flow_sift", 7, kFlowSiftArgs, 2},
};

inline const KernelSignature *find_kernel(std::string_view name) {
    for (const KernelSignature &k : kKernels) {
        if (name == k.name) return &k;
    }
    return nullptr;
}

}  // namespace tapsift::kernel_interface
