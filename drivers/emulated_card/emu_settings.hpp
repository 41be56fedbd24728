// The emulated card's knobs, read once from the environment (README, "The emulated card"):
// injected DMA and kernel latency, and injected faults.
#pragma once

#include <cstdint>
#include <string>

namespace tapsift::emu {

enum class Fault { kNone, kHang, kError, kCorrupt };

struct Settings {
    uint64_t dma_ns = 0;              // TAPSIFT_EMU_DMA_NS: fixed cost of each sync
    uint64_t dma_ps_per_byte = 0;     // TAPSIFT_EMU_DMA_PS_PER_BYTE: plus this per byte synced
    uint64_t kernel_ns = 0;           // TAPSIFT_EMU_KERNEL_NS: fixed cost of each run
    uint64_t kernel_ns_per_beat = 0;  // TAPSIFT_EMU_KERNEL_NS_PER_BEAT: plus this per ingest beat
    Fault fault = Fault::kNone;       // TAPSIFT_EMU_FAULT: hang | error | corrupt
    uint64_t fault_run =
        0;  // TAPSIFT_EMU_FAULT_RUN: only the Kth run of the process (1-based); 0 = all
    std::string fault_cu;  // TAPSIFT_EMU_FAULT_CU: only runs of this CU (and K counts them)
};

// Parses the environment; each device reads it when it opens. Throws std::invalid_argument
// naming the variable on a bad value.
Settings settings_from_environment();

}  // namespace tapsift::emu
