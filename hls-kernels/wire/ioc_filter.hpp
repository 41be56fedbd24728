// The kernel's threat-intel lookup structure: a blocked Bloom filter over (family, prefix length,
// masked address) for every IP and CIDR indicator. Fixed size (sift.kernel.ioc_filter_bytes);
// a hit means "maybe", and the host confirms it exactly (host/sift/ioc_set.hpp).
//
// Layout: the header beat, then the filter's 2^bits_log2 bits as uint64_t words, grouped in
// blocks of kIocFilterBlockWords words (512 bits: one beat, one cache line when 64-byte aligned).
// Bit j (0..511) of block b is bit j % 64 of word 8 b + j / 64, i.e. bit j of the block's beat.
// A key's hash picks one block and all its probes fall inside it, so a lookup of one (address,
// prefix length) reads one beat (prefilter/ioc_filter.cpp has the hash-to-bits mapping).
#pragma once

#include <cstdint>

#include "ingest_batch.hpp"

namespace tapsift::wire {

constexpr uint32_t kIocFilterMagic = 0x54494f42;  // "TIOB": blocked (the classic filter was "TIOC")
constexpr uint32_t kIocFilterMaxHashes = 8;
constexpr uint32_t kIocFilterBlockBitsLog2 = 9;                      // 512-bit blocks
constexpr uint32_t kIocFilterBlockWords = 8;                         // uint64_t words per block
constexpr uint32_t kIocFilterMinBitsLog2 = kIocFilterBlockBitsLog2;  // one block
constexpr uint32_t kIocFilterMaxBitsLog2 = 32;                       // 512 MiB, 2^23 blocks

static_assert(kIocFilterBlockWords * 64 == (1u << kIocFilterBlockBitsLog2), "8 words of 64 bits");
static_assert(kIocFilterBlockWords * 8 == kBeatBytes, "an IOC filter block is one beat");

// One beat; the filter's blocks follow.
struct IocFilterHeader {
    uint32_t magic;
    uint8_t bits_log2;  // the whole filter's size in bits: 2^(bits_log2 - 9) blocks
    uint8_t hashes;     // probes per key, all in its block, 1..kIocFilterMaxHashes
    uint8_t reserved0[2];
    uint32_t indicators;  // keys inserted
    uint32_t reserved1;
    uint64_t v4_lengths;     // bit L: some IPv4 indicator is a /L (L = 0..32)
    uint64_t v6_lengths[3];  // bit L: some IPv6 indicator is a /L (L = 0..128)
    uint8_t reserved[16];
};

static_assert(sizeof(IocFilterHeader) == kBeatBytes, "the IOC filter header is one beat");

}  // namespace tapsift::wire
