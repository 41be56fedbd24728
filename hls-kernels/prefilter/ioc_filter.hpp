// Kernel-side IOC lookup (wire/ioc_filter.hpp): a blocked Bloom filter, bounded probes, no heap.
// The host builds the filter with the same key hash and insert, so both sides are in this one
// header.
#pragma once

#include <cstdint>

#include "wire/ioc_filter.hpp"

namespace tapsift::hls_kernels {

// The 64-bit hash of an address (16 bytes, IPv4-mapped for IPv4) masked to prefix_len bits of
// its family (0..32 for IPv4, 0..128 for IPv6), keyed by family and length. The filter takes the
// block from its high 32 bits and the probes inside the block from its low 32 bits.
uint64_t ioc_key_hash(const uint8_t addr16[16], bool is_v4, uint32_t prefix_len);

// True when the filter may hold an indicator containing addr; false is certain. IPv4-mapped
// addresses are checked against the IPv4 lengths only, others against the IPv6 lengths, longest
// first, stopping at the first hit: each length checked reads one 512-bit block (one beat).
// A header with a wrong magic, bits_log2 or hashes matches nothing.
bool ioc_filter_maybe(const wire::IocFilterHeader &header, const uint64_t *words,
                      const uint8_t addr16[16]);

// Sets the key's header.hashes bits in its block and counts it in header.indicators (host side,
// when building; the caller sets the length bits v4_lengths / v6_lengths).
void ioc_filter_insert(wire::IocFilterHeader &header, uint64_t *words, uint64_t key_hash);

bool is_v4_mapped(const uint8_t addr16[16]);

}  // namespace tapsift::hls_kernels
