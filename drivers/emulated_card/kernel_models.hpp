// What the emulated card executes for each kernel of the signature table: the kernel's own top
// function (the one v++ synthesizes), called on device memory, after checking that every buffer
// holds what the kernel may touch (on a card a short buffer is a silent overrun).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device_memory.hpp"
#include "kernel_signatures.hpp"

namespace tapsift::emu {

// One argument of a run as the command queue holds it: a buffer's device memory, or a scalar's
// bytes.
struct ArgValue {
    std::shared_ptr<DeviceMemory> buffer;
    std::array<uint8_t, 64> scalar{};
    uint32_t scalar_size = 0;
    bool set = false;
};

struct KernelModel {
    const char *name;
    uint32_t written_args;  // bit i: the kernel writes argument i
    uint32_t output_arg;    // where TAPSIFT_EMU_FAULT=corrupt damages the result
    // Runs the kernel on device memory. Returns "" or why it did not run (a bounds error).
    std::string (*execute)(const std::vector<ArgValue> &args);
};

// nullptr when the card has no model of that kernel.
const KernelModel *find_model(const std::string &kernel_name);

// The kernels the card serves, for checking the signature table against the models.
const std::vector<const KernelModel *> &all_models();

// The 64-byte beats of the ingest batch in args[0] (its header's total_beats, at most what the
// buffer holds), for the kernel-time model.
uint64_t ingest_beats(const std::vector<ArgValue> &args);

}  // namespace tapsift::emu
