// One buffer's two copies: what the host maps, and the card's memory the kernels see. Both
// start filled with poison so that a read of memory nobody wrote shows, not zeros.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tapsift::emu {

constexpr uint8_t kDevicePoison = 0xDB;
constexpr uint8_t kHostPoison = 0x5A;

// 4 KiB aligned, as XRT's buffers: the kernels read 64-byte beats in place.
class AlignedBytes {
  public:
    AlignedBytes(size_t size, uint8_t fill);
    uint8_t *data() const { return bytes_.get(); }
    size_t size() const { return size_; }

  private:
    struct Free {
        void operator()(uint8_t *p) const;
    };
    std::unique_ptr<uint8_t, Free> bytes_;
    size_t size_;
};

// Device memory, shared by its bo and by the commands queued with it, so that a sync can tell
// when a run in flight still reads (readers) or writes (writers) it.
struct DeviceMemory {
    explicit DeviceMemory(size_t size) : bytes(size, kDevicePoison) {}
    AlignedBytes bytes;
    std::atomic<int> readers{0};
    std::atomic<int> writers{0};
};

}  // namespace tapsift::emu
