// Stand-in for the generated kernel interface table (branch iface: kernel_signatures.hpp from
// hls-kernels/interface/kernels.json), with the same names, layout and u55c banks, so that the
// swap is deleting this file and linking tapsift_kernel_interface. Argument order is the
// kernels' C++ parameter order, which is XRT's argument index.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapsift::kernel_interface {

enum class ArgKind : uint8_t { kBuffer, kScalar };

struct ArgSignature {
    const char *name;
    ArgKind kind;
    uint32_t size;   // bytes XRT checks in set_arg (8 for a buffer: its device address)
    uint32_t group;  // compute unit 1's memory bank; kNoGroup for a scalar
};

struct KernelSignature {
    const char *name;
    uint32_t arg_count;
    const ArgSignature *args;
    uint32_t compute_units;     // named <name>_1 .. <name>_<compute_units>
    const uint32_t *cu_groups;  // [compute unit][argument] banks
};

inline constexpr uint32_t kNoGroup = 0xffffffffu;

inline constexpr ArgSignature k_syslog_sift_args[] = {
    {"ingest", ArgKind::kBuffer, 8, 0},
    {"descriptors", ArgKind::kBuffer, 8, 1},
    {"rfc3164_utc_offset_s", ArgKind::kScalar, 4, kNoGroup},
    {"tables", ArgKind::kBuffer, 8, 2},
    {"counters", ArgKind::kBuffer, 8, 1},
};
inline constexpr uint32_t k_syslog_sift_u55c_cu_groups[] = {
    0,  1,  kNoGroup, 2,  1,   // syslog_sift_1
    4,  5,  kNoGroup, 6,  5,   // syslog_sift_2
    8,  9,  kNoGroup, 10, 9,   // syslog_sift_3
    12, 13, kNoGroup, 14, 13,  // syslog_sift_4
};

inline constexpr ArgSignature k_flow_sift_args[] = {
    {"ingest", ArgKind::kBuffer, 8, 16},          {"items", ArgKind::kBuffer, 8, 17},
    {"max_items", ArgKind::kScalar, 4, kNoGroup}, {"config", ArgKind::kScalar, 8, kNoGroup},
    {"state", ArgKind::kBuffer, 8, 18},           {"tables", ArgKind::kBuffer, 8, 19},
    {"counters", ArgKind::kBuffer, 8, 17},
};
inline constexpr uint32_t k_flow_sift_u55c_cu_groups[] = {
    16, 17, kNoGroup, kNoGroup, 18, 19, 17,  // flow_sift_1
    20, 21, kNoGroup, kNoGroup, 22, 23, 21,  // flow_sift_2
};

inline constexpr KernelSignature kKernels[] = {
    {"syslog_sift", 5, k_syslog_sift_args, 4, k_syslog_sift_u55c_cu_groups},
    {"flow_sift", 7, k_flow_sift_args, 2, k_flow_sift_u55c_cu_groups},
};

constexpr const KernelSignature *find_kernel(std::string_view name) {
    for (const KernelSignature &k : kKernels)
        if (name == k.name) return &k;
    return nullptr;
}

}  // namespace tapsift::kernel_interface
