#include "emu_settings.hpp"

#include <cstdlib>
#include <stdexcept>

namespace tapsift::emu {
namespace {

uint64_t env_u64(const char *name, uint64_t fallback) {
    const char *v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    char *end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (*end != '\0' || *v == '-') {
        throw std::invalid_argument(std::string(name) + ": expected a non-negative integer, got '" +
                                    v + "'");
    }
    return n;
}

Fault env_fault(const char *name) {
    const char *v = std::getenv(name);
    if (v == nullptr || *v == '\0') return Fault::kNone;
    const std::string s(v);
    if (s == "hang") return Fault::kHang;
    if (s == "error") return Fault::kError;
    if (s == "corrupt") return Fault::kCorrupt;
    throw std::invalid_argument(std::string(name) + ": expected hang, error or corrupt, got '" + s +
                                "'");
}

}  // namespace

Settings settings_from_environment() {
    Settings s;
    s.dma_ns = env_u64("TAPSIFT_EMU_DMA_NS", 0);
    s.dma_ps_per_byte = env_u64("TAPSIFT_EMU_DMA_PS_PER_BYTE", 0);
    s.kernel_ns = env_u64("TAPSIFT_EMU_KERNEL_NS", 0);
    s.kernel_ns_per_beat = env_u64("TAPSIFT_EMU_KERNEL_NS_PER_BEAT", 0);
    s.fault = env_fault("TAPSIFT_EMU_FAULT");
    s.fault_run = env_u64("TAPSIFT_EMU_FAULT_RUN", 0);
    if (const char *cu = std::getenv("TAPSIFT_EMU_FAULT_CU")) s.fault_cu = cu;
    return s;
}

}  // namespace tapsift::emu
