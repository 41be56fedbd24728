#include "device_memory.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace tapsift::emu {

constexpr size_t kAlignment = 4096;

AlignedBytes::AlignedBytes(size_t size, uint8_t fill) : size_(size) {
    const size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    bytes_.reset(static_cast<uint8_t *>(std::aligned_alloc(kAlignment, rounded)));
    if (!bytes_) throw std::bad_alloc();
    std::memset(bytes_.get(), fill, rounded);
}

void AlignedBytes::Free::operator()(uint8_t *p) const {
    std::free(p);
}

}  // namespace tapsift::emu
