// The objects behind the XRT native API's handles (xrt::device, xrt::bo, xrt::kernel, xrt::run
// each hold a shared_ptr to one of these): the emulated card's device, buffers, kernels and runs.
#pragma once

#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "compute_unit.hpp"
#include "device_memory.hpp"
#include "emu_settings.hpp"
#include "kernel_models.hpp"
#include "kernel_signatures.hpp"

namespace xrt_core {

class device : public std::enable_shared_from_this<device> {
  public:
    device();  // reads the environment's settings
    ~device();
    device(const device &) = delete;
    device &operator=(const device &) = delete;

    xrt::uuid load_xclbin(const std::string &path);
    xrt::uuid loaded_xclbin() const;
    const tapsift::emu::Settings &settings() const { return settings_; }
    // The CU's queue, its worker started on first use.
    tapsift::emu::ComputeUnit &compute_unit(const std::string &cu_name);
    // The memory banks the signature table connects some buffer argument to.
    bool has_bank(uint32_t group) const;
    // The device an xclDeviceHandle (xrt::device's conversion) names, or nullptr.
    static std::shared_ptr<device> from_handle(void *handle);

  private:
    const tapsift::emu::Settings settings_;
    mutable std::mutex mutex_;
    xrt::uuid xclbin_;
    std::map<std::string, std::unique_ptr<tapsift::emu::ComputeUnit>> compute_units_;
};

}  // namespace xrt_core

namespace xrt {

class bo_impl {
  public:
    bo_impl(std::shared_ptr<xrt_core::device> dev, size_t size, bo::flags flags,
            memory_group group);
    std::shared_ptr<xrt_core::device> device;
    std::optional<tapsift::emu::AlignedBytes> host;  // none for a device_only buffer
    std::shared_ptr<tapsift::emu::DeviceMemory> memory;
    bo::flags flags;
    memory_group group;
    uint64_t address;
};

class kernel_impl {
  public:
    std::shared_ptr<xrt_core::device> device;
    const tapsift::kernel_interface::KernelSignature *signature;
    const tapsift::emu::KernelModel *model;
    std::vector<uint32_t> compute_units;  // the CUs (0-based) this kernel object may run on
    uint32_t bank(uint32_t cu, uint32_t arg) const {
        return signature->cu_groups[cu * signature->arg_count + arg];
    }
    std::string cu_name(uint32_t cu) const {
        return std::string(signature->name) + "_" + std::to_string(cu + 1);
    }
};

class run_impl {
  public:
    std::shared_ptr<kernel_impl> kernel;
    std::vector<tapsift::emu::ArgValue> args;
    std::vector<uint32_t> compute_units;  // the kernel's, less those a buffer's bank ruled out
    std::shared_ptr<tapsift::emu::Completion> done;  // null until started
    tapsift::emu::ComputeUnit *cu = nullptr;         // where the last start() went
};

}  // namespace xrt
