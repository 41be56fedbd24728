// IOC Bloom filter: key hash, query and insert. Synthesizable style: no heap, no recursion, every
// loop bounded by a constant.
//
// A key is (family, prefix length, address masked to that length). Its 64-bit hash h gives the
// k probes by double hashing, bit (h1 + i*h2) mod 2^bits_log2 with h1 = h and h2 = (h >> 32) | 1:
// h2 odd is coprime to the power-of-two size, so the k probes of a key are distinct bits.
// A query hashes the address once per prefix length in use, longest first, and stops at the
// first length whose probes all hit.
#include "ioc_filter.hpp"

#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {
namespace {

constexpr uint32_t kV4Lengths = 33;   // /0../32
constexpr uint32_t kV6Lengths = 129;  // /0../128

// murmur3's 64-bit finalizer: every input bit flips each output bit with probability ~1/2.
uint64_t fmix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t load_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
#pragma HLS UNROLL
        v = (v << 8) | p[i];
    }
    return v;
}

// The top `bits` (0..64) bits of a word.
uint64_t top_bits(uint32_t bits) {
    if (bits == 0) return 0;
    if (bits >= 64) return ~uint64_t{0};
    return ~uint64_t{0} << (64 - bits);
}

bool length_set(const uint64_t *lengths, uint32_t len) {
    return ((lengths[len / 64] >> (len % 64)) & 1) != 0;
}

// All k probes of the key are set.
bool probes_hit(const wire::IocFilterHeader &header, const uint64_t *words, uint64_t h) {
    const uint64_t mask = (uint64_t{1} << header.bits_log2) - 1;
    const uint64_t h2 = (h >> 32) | 1;
    uint64_t bit = h;
    for (uint32_t i = 0; i < wire::kIocFilterMaxHashes; ++i) {
#pragma HLS UNROLL
        if (i >= header.hashes) break;
        const uint64_t b = bit & mask;
        if (((words[b / 64] >> (b % 64)) & 1) == 0) return false;
        bit += h2;
    }
    return true;
}

}  // namespace

bool is_v4_mapped(const uint8_t addr16[16]) {
    bool zeros = true;
    for (int i = 0; i < 10; ++i) {
#pragma HLS UNROLL
        zeros = zeros && addr16[i] == 0;
    }
    return zeros && addr16[10] == 0xff && addr16[11] == 0xff;
}

uint64_t ioc_key_hash(const uint8_t addr16[16], bool is_v4, uint32_t prefix_len) {
    const uint32_t len =
        is_v4 ? (prefix_len > 32 ? 32 : prefix_len) : (prefix_len > 128 ? 128 : prefix_len);
    // An IPv4 /L keeps the ::ffff: prefix too: 96 + L bits of the 128.
    const uint32_t bits = is_v4 ? 96 + len : len;
    const uint64_t hi = load_be64(addr16) & top_bits(bits);
    const uint64_t lo = load_be64(addr16 + 8) & top_bits(bits > 64 ? bits - 64 : 0);
    const uint64_t tag = (is_v4 ? 0x100u : 0u) | len;
    // Two finalizer rounds chained: the first keys the high word by family and length, the
    // second folds in the low word (multiplied by an odd constant, so still one-to-one).
    const uint64_t h = fmix64(hi ^ (tag * 0x9e3779b97f4a7c15ULL));
    return fmix64(h ^ (lo * 0xc2b2ae3d27d4eb4fULL));
}

void ioc_filter_insert(wire::IocFilterHeader &header, uint64_t *words, uint64_t key_hash) {
    const uint64_t mask = (uint64_t{1} << header.bits_log2) - 1;
    const uint64_t h2 = (key_hash >> 32) | 1;
    uint64_t bit = key_hash;
    for (uint32_t i = 0; i < wire::kIocFilterMaxHashes; ++i) {
        if (i >= header.hashes) break;
        const uint64_t b = bit & mask;
        words[b / 64] |= uint64_t{1} << (b % 64);
        bit += h2;
    }
    header.indicators++;
}

bool ioc_filter_maybe(const wire::IocFilterHeader &header, const uint64_t *words,
                      const uint8_t addr16[16]) {
    if (header.magic != wire::kIocFilterMagic || header.bits_log2 < wire::kIocFilterMinBitsLog2 ||
        header.bits_log2 > wire::kIocFilterMaxBitsLog2 || header.hashes == 0 ||
        header.hashes > wire::kIocFilterMaxHashes) {
        return false;
    }
    if (is_v4_mapped(addr16)) {
        const uint64_t lengths[1] = {header.v4_lengths};
        for (uint32_t i = 0; i < kV4Lengths; ++i) {
            const uint32_t len = kV4Lengths - 1 - i;
            if (length_set(lengths, len) &&
                probes_hit(header, words, ioc_key_hash(addr16, true, len))) {
                return true;
            }
        }
        return false;
    }
    for (uint32_t i = 0; i < kV6Lengths; ++i) {
        const uint32_t len = kV6Lengths - 1 - i;
        if (length_set(header.v6_lengths, len) &&
            probes_hit(header, words, ioc_key_hash(addr16, false, len))) {
            return true;
        }
    }
    return false;
}

}  // namespace tapsift::hls_kernels
