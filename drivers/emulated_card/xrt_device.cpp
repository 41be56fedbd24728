// xrt::device on the emulated card: device 0 only; load_xclbin checks the file is an xclbin and
// takes its uuid; the kernels served are those of the signature table.
#include <xrt/xclbin.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

#include "emulated_card.hpp"

namespace xrt_core {
namespace {

std::mutex g_devices_mutex;
std::set<device *> g_devices;  // live devices, for from_handle

}  // namespace

device::device() : settings_(tapsift::emu::settings_from_environment()) {
    for (const tapsift::emu::KernelModel *m : tapsift::emu::all_models()) {
        if (tapsift::kernel_interface::find_kernel(m->name) == nullptr) {
            throw std::logic_error(std::string("emulated card: kernel ") + m->name +
                                   " is not in the kernel signature table");
        }
    }
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    g_devices.insert(this);
}

device::~device() {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    g_devices.erase(this);
}

std::shared_ptr<device> device::from_handle(void *handle) {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    auto it = g_devices.find(static_cast<device *>(handle));
    return it == g_devices.end() ? nullptr : (*it)->weak_from_this().lock();
}

xrt::uuid device::load_xclbin(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("load_xclbin: cannot open '" + path +
                                 "': " + std::strerror(errno));
    }
    axlf top{};
    in.read(reinterpret_cast<char *>(&top), sizeof top);
    if (in.gcount() != static_cast<std::streamsize>(sizeof top) ||
        std::memcmp(top.m_magic, "xclbin2", 8) != 0) {
        throw std::runtime_error("load_xclbin: '" + path + "' is not an xclbin (no xclbin2 magic)");
    }
    in.seekg(0, std::ios::end);
    if (static_cast<uint64_t>(in.tellg()) < top.m_header.m_length) {
        throw std::runtime_error("load_xclbin: '" + path + "' is truncated");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    xclbin_ = xrt::uuid(top.m_header.uuid);
    return xclbin_;
}

xrt::uuid device::loaded_xclbin() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return xclbin_;
}

tapsift::emu::ComputeUnit &device::compute_unit(const std::string &cu_name) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto &cu = compute_units_[cu_name];
    if (!cu) cu = std::make_unique<tapsift::emu::ComputeUnit>(cu_name, settings_);
    return *cu;
}

bool device::has_bank(uint32_t group) const {
    if (group == tapsift::kernel_interface::kNoGroup) return false;
    for (const tapsift::emu::KernelModel *m : tapsift::emu::all_models()) {
        const auto *sig = tapsift::kernel_interface::find_kernel(m->name);
        for (uint32_t i = 0; i < sig->compute_units * sig->arg_count; ++i) {
            if (sig->cu_groups[i] == group) return true;
        }
    }
    return false;
}

}  // namespace xrt_core

namespace xrt {

device::device(unsigned int didx) {
    if (didx != 0) {
        throw std::runtime_error("Could not open device with index '" + std::to_string(didx) +
                                 "': the emulated card is device 0");
    }
    handle = std::make_shared<xrt_core::device>();
}

uuid device::load_xclbin(const std::string &xclbin_fnm) {
    if (!handle) throw std::runtime_error("load_xclbin: no device");
    return handle->load_xclbin(xclbin_fnm);
}

uuid device::get_xclbin_uuid() const {
    if (!handle) throw std::runtime_error("get_xclbin_uuid: no device");
    return handle->loaded_xclbin();
}

device::operator xclDeviceHandle() const {
    return handle.get();
}

void device::reset() {
    handle.reset();
}

}  // namespace xrt
