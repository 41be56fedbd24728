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
    const size_t bytes = b.memory->bytes.size();
    if (offset > bytes || size > bytes - offset) {
        throw std::out_of_range(std::string(what) + ": size " + std::to_string(size) +
                                " at offset " + std::to_string(offset) + " is outside the " +
                                std::to_string(bytes) + "-byte buffer");
    }
}

uint8_t *host_copy(bo_impl &b, const char *what) {
    if (!b.host) {
        throw std::runtime_error(std::string(what) +
                                 ": a device_only buffer has no host copy (use bo::copy)");
    }
    return b.host->data();
}

// On a card a DMA or a device copy would race the kernel: refuse rather than tear the bytes.
void check_idle(const bo_impl &b, bool writing, const char *what) {
    if (b.memory->writers.load() > 0 || (writing && b.memory->readers.load() > 0)) {
        throw std::runtime_error(std::string(what) + ": " + (writing ? "writes" : "reads") +
                                 " the device copy of a buffer that a queued or running run uses");
    }
}

}  // namespace

bo_impl::bo_impl(std::shared_ptr<xrt_core::device> dev, size_t size, bo::flags f, memory_group grp)
    : device(std::move(dev)),
      host(f == bo::flags::device_only ? std::nullopt
                                       : std::optional<tapsift::emu::AlignedBytes>(
                                             std::in_place, size, tapsift::emu::kHostPoison)),
      memory(std::make_shared<tapsift::emu::DeviceMemory>(size)),
      flags(f),
      group(grp),
      address(g_next_address.fetch_add((size + 4095) / 4096 * 4096)) {}

bo::bo(xclDeviceHandle dhdl, size_t size, bo::flags flags, memory_group grp) {
    auto dev = xrt_core::device::from_handle(dhdl);
    if (!dev) throw std::runtime_error("bo: not a device handle of the emulated card");
    if (size == 0) throw std::invalid_argument("bo: a buffer of 0 bytes");
    if (flags != bo::flags::normal && flags != bo::flags::cacheable &&
        flags != bo::flags::device_only) {
        throw std::invalid_argument(
            "bo: the emulated card has normal, cacheable and device_only buffers only");
    }
    if (!dev->has_bank(grp)) {
        throw std::runtime_error("bo: memory group " + std::to_string(grp) +
                                 " is no bank a kernel argument is connected to");
    }
    handle = std::make_shared<bo_impl>(std::move(dev), size, flags, grp);
    tapsift::emu::count_allocation(size);
}

size_t bo::size() const {
    return checked(handle, "size")->memory->bytes.size();
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
    uint8_t *host = host_copy(b, "sync") + offset;
    check_idle(b, to_device, to_device ? "sync to device" : "sync from device");
    const auto started = std::chrono::steady_clock::now();
    uint8_t *dev = b.memory->bytes.data() + offset;
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
    return host_copy(*checked(handle, "map"), "map");
}

void bo::write(const void *src, size_t size, size_t seek) {
    bo_impl &b = *checked(handle, "write");
    check_range(b, size, seek, "write");
    std::memcpy(host_copy(b, "write") + seek, src, size);
}

void bo::read(void *dst, size_t size, size_t skip) {
    bo_impl &b = *checked(handle, "read");
    check_range(b, size, skip, "read");
    std::memcpy(dst, host_copy(b, "read") + skip, size);
}

// A copy inside the card's memory, from src's device copy to this one's (no host copy involved).
void bo::copy(const bo &src, size_t sz, size_t src_offset, size_t dst_offset) {
    bo_impl &d = *checked(handle, "copy");
    const bo_impl &s = *checked(src.get_handle(), "copy");
    check_range(s, sz, src_offset, "copy (source)");
    check_range(d, sz, dst_offset, "copy (destination)");
    check_idle(s, false, "copy (source)");
    check_idle(d, true, "copy (destination)");
    std::memmove(d.memory->bytes.data() + dst_offset, s.memory->bytes.data() + src_offset, sz);
}

}  // namespace xrt
