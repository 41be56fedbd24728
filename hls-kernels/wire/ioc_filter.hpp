// The kernel's threat-intel lookup structure: a Bloom filter over (family, prefix length,
// masked address) for every IP and CIDR indicator. Fixed size (sift.kernel.ioc_filter_bytes);
// a hit means "maybe", and the host confirms it exactly (host/sift/ioc_set.hpp).
#pragma once

#include <cstdint>

#include "ingest_batch.hpp"

namespace tapsift::wire {

constexpr uint32_t kIocFilterMagic = 0x54494f43;  // "TIOC"
constexpr uint32_t kIocFilterMaxHashes = 8;
constexpr uint32_t kIocFilterMinBitsLog2 = 9;   // one beat of bits
constexpr uint32_t kIocFilterMaxBitsLog2 = 32;  // 512 MiB

// One beat; the filter's 2^bits_log2 bits follow as uint64_t words.
struct IocFilterHeader {
    uint32_t magic;
    uint8_t bits_log2;
    uint8_t hashes;  // probes per key, 1..kIocFilterMaxHashes
    uint8_t reserved0[2];
    uint32_t indicators;  // keys inserted
    uint32_t reserved1;
    uint64_t v4_lengths;     // bit L: some IPv4 indicator is a /L (L = 0..32)
    uint64_t v6_lengths[3];  // bit L: some IPv6 indicator is a /L (L = 0..128)
    uint8_t reserved[16];
};

static_assert(sizeof(IocFilterHeader) == kBeatBytes, "the IOC filter header is one beat");

}  // namespace tapsift::wire
