// xrt::bo on the emulated card: a host copy (map, write, read) and a device copy (what kernels
// see); only sync moves bytes between them, and a sync costs the injected DMA latency.
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "emu_stats.hpp"
#include "emulated_card.hpp"
#include "latency.hpp"

namespace xrt {
namespace {

std::atomic<uint64_t> g_next_address{0x4000000000};

const std::shared_ptr<bo_impl> &checked(const std::shared_ptr<bo_impl> &h, const char *what) {
    if (!h) throw std::runtime_error(std::string(what) + ": the bo has no buffer");
    return h;
}

void check_range(const bo_impl &b, size_t size, size_t offset, const char *what) {
    if (offset > b.host.size() || size > b.host.size() - offset) {
        throw std::out_of_range(std::string(what) + ": size " + std::to_string(size) +
                                " at offset " + std::to_string(offset) + " is outside the " +
                                std::to_string(b.host.size()) + "-byte buffer");
    }
}

}  // namespace

bo_impl::bo_impl(std::shared_ptr<xrt_core::device> dev, size_t size, bo::flags f, memory_group grp)
    : device(std::move(dev)),
      host(size, tapsift::emu::kHostPoison),
      memory(std::make_shared<tapsift::emu::DeviceMemory>(size)),
      flags(f),
      group(grp),
      address(g_next_address.fetch_add((size + 4095) / 4096 * 4096)) {}

bo::bo(xclDeviceHandle dhdl, size_t size, bo::flags flags, memory_group grp) {
    auto dev = xrt_core::device::from_handle(dhdl);
    if (!dev) throw std::runtime_error("bo: not a device handle of the emulated card");
    if (size == 0) throw std::invalid_argument("bo: a buffer of 0 bytes");
    if (flags != bo::flags::normal && flags != bo::flags::cacheable) {
        throw std::invalid_argument("bo: the emulated card has normal and cacheable buffers only");
    }
    if (!dev->has_bank(grp)) {
        throw std::runtime_error("bo: memory group " + std::to_string(grp) +
                                 " is no bank a kernel argument is connected to");
    }
    handle = std::make_shared<bo_impl>(std::move(dev), size, flags, grp);
    tapsift::emu::count_allocation(size);
}

size_t bo::size() const {
    return checked(handle, "size")->host.size();
}

uint64_t bo::address() const {
    return checked(handle, "address")->address;
}

memory_group bo::get_memory_group() const {
    return checked(handle, "get_memory_group")->group;
}

bo::flags bo::get_flags() const {
    return checked(handle, "get_flags")->flags;
}

void bo::sync(xclBOSyncDirection dir, size_t sz, size_t offset) {
    bo_impl &b = *checked(handle, "sync");
    check_range(b, sz, offset, "sync");
    const bool to_device = dir == XCL_BO_SYNC_BO_TO_DEVICE;
    if (!to_device && dir != XCL_BO_SYNC_BO_FROM_DEVICE) {
        throw std::invalid_argument("sync: the emulated card has no AIE");
    }
    // On a card the DMA would race the kernel: refuse rather than return torn bytes.
    if (b.memory->writers.load() > 0 || (to_device && b.memory->readers.load() > 0)) {
        throw std::runtime_error(
            std::string("sync ") + (to_device ? "to" : "from") +
            " device of a buffer that a queued or running run uses (a card's DMA would race it)");
    }
    const auto started = std::chrono::steady_clock::now();
    uint8_t *dev = b.memory->bytes.data() + offset;
    uint8_t *host = b.host.data() + offset;
    if (to_device) {
        std::memcpy(dev, host, sz);
    } else {
        std::memcpy(host, dev, sz);
    }
    tapsift::emu::count_sync(to_device, sz);
    const auto &s = b.device->settings();
    tapsift::emu::wait_until(started +
                             std::chrono::nanoseconds(s.dma_ns + sz * s.dma_ps_per_byte / 1000));
}

void *bo::map() {
    return checked(handle, "map")->host.data();
}

void bo::write(const void *src, size_t size, size_t seek) {
    bo_impl &b = *checked(handle, "write");
    check_range(b, size, seek, "write");
    std::memcpy(b.host.data() + seek, src, size);
}

void bo::read(void *dst, size_t size, size_t skip) {
    bo_impl &b = *checked(handle, "read");
    check_range(b, size, skip, "read");
    std::memcpy(dst, b.host.data() + skip, size);
}

}  // namespace xrt
