// IOC filter: key hash, query and insert. Synthesizable style: no heap, no recursion, every loop
// bounded by a constant.
//
// A blocked Bloom filter (Putze, Sanders, Singler 2007; RocksDB's FastLocalBloom and Impala's
// filters are the same idea). A key is (family, prefix length, address masked to that length) and
// ioc_key_hash gives it 64 bits h. The filter's 2^bits_log2 bits are 2^(bits_log2 - 9) blocks of
// 512 bits, 8 words each: one beat, one cache line. The high half of h picks the block,
// (h >> 32) mod blocks; the low half x = h mod 2^32 places all k probes inside that block, probe i
// at bit (x * G^(i+1) mod 2^32) >> 23 with G = 0x9e3779b9 (the 32-bit golden ratio; the
// multipliers are RocksDB's). The two halves of h are independent, so the block and the bits in
// it are too. The k probes of one key may share a bit (for k = 8, about 5% of keys have such a
// pair), which the expected rate below ignores: it raises the true rate by about 2% at k = 8.
//
// A lookup of one (address, length) therefore reads one block, instead of k words scattered over
// the whole filter. The price is a higher false-positive rate than a classic filter of the same
// size, because blocks hold a Poisson number of keys (mean 512 / bits-per-key) and the crowded
// ones answer "maybe" more often: for n keys in m bits the expected rate is
//   sum over i of Poisson(i; 512 n / m) * (1 - (1 - 1/512)^(i k))^k
// (Putze et al., section 3), e.g. 1.2e-5 against the classic 4.1e-6 at 33.5 bits per key, k = 8.
//
// A query hashes the address once per prefix length in use, longest first, and stops at the
// first length whose block has all k probes set. For IPv4 the first of the hash's two rounds
// comes from a table, since it depends on the length only: hashing, not memory, is most of a
// lookup's cost once the blocks are cached.
#include "ioc_filter.hpp"

#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {
namespace {

constexpr uint32_t kV4Lengths = 33;   // /0../32
constexpr uint32_t kV6Lengths = 129;  // /0../128

// murmur3's 64-bit finalizer: every input bit flips each output bit with probability ~1/2.
constexpr uint64_t fmix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

// The key hash is two finalizer rounds chained: the first keys the high word by family and
// length, the second folds in the low word (multiplied by an odd constant, so still one-to-one).
constexpr uint64_t first_round(uint64_t hi, uint32_t tag) {
    return fmix64(hi ^ (tag * 0x9e3779b97f4a7c15ULL));
}

constexpr uint64_t second_round(uint64_t first, uint64_t lo) {
    return fmix64(first ^ (lo * 0xc2b2ae3d27d4eb4fULL));
}

constexpr uint32_t kV4Tag = 0x100;  // tag = family | length

// An IPv4-mapped address's high word is 0, so for IPv4 the first round depends on the length
// only: a 33-entry table (a ROM in hardware) halves the hashing of an IPv4 query.
struct V4Seeds {
    uint64_t first[kV4Lengths];
};

constexpr V4Seeds make_v4_seeds() {
    V4Seeds s{};
    for (uint32_t len = 0; len < kV4Lengths; ++len) s.first[len] = first_round(0, kV4Tag | len);
    return s;
}

constexpr V4Seeds kV4Seeds = make_v4_seeds();

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

// Probe i of a key is bit (x * kProbeMul[i]) >> 23 of its block: kProbeMul[i] = G^(i+1) mod 2^32.
constexpr uint32_t kProbeMul[wire::kIocFilterMaxHashes] = {
    0x9e3779b9, 0xe35e67b1, 0x734297e9, 0x35fbe861, 0xdeb7c719, 0x0448b211, 0x3459b749, 0xab25f4c1,
};

constexpr bool probe_multipliers_are_powers() {
    for (uint32_t i = 1; i < wire::kIocFilterMaxHashes; ++i) {
        if (kProbeMul[i] != static_cast<uint32_t>(kProbeMul[i - 1] * kProbeMul[0])) return false;
    }
    return true;
}
static_assert(probe_multipliers_are_powers(), "kProbeMul[i] is G^(i+1)");

// The first word of the key's block: blocks are 2^(bits_log2 - 9), 8 words each.
uint64_t block_word(uint32_t bits_log2, uint64_t h) {
    const uint64_t blocks_mask = (uint64_t{1} << (bits_log2 - wire::kIocFilterBlockBitsLog2)) - 1;
    return ((h >> 32) & blocks_mask) * wire::kIocFilterBlockWords;
}

// The bit of the block (0..511) that probe i of the key tests.
uint32_t probe_bit(uint64_t h, uint32_t i) {
    return (static_cast<uint32_t>(h) * kProbeMul[i]) >> (32 - wire::kIocFilterBlockBitsLog2);
}

// All k probes of the key are set in its block: one block (one beat) read, k bit selects. Most
// bits are clear, so a miss usually stops at the first probe.
bool probes_hit(const wire::IocFilterHeader &header, const uint64_t *words, uint64_t h) {
    const uint64_t *block = words + block_word(header.bits_log2, h);
    for (uint32_t i = 0; i < wire::kIocFilterMaxHashes; ++i) {
#pragma HLS UNROLL
        if (i >= header.hashes) break;
        const uint32_t b = probe_bit(h, i);
        if (((block[b / 64] >> (b % 64)) & 1) == 0) return false;
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
    const uint32_t tag = (is_v4 ? kV4Tag : 0u) | len;
    return second_round(first_round(hi, tag), lo);
}

void ioc_filter_insert(wire::IocFilterHeader &header, uint64_t *words, uint64_t key_hash) {
    uint64_t *block = words + block_word(header.bits_log2, key_hash);
    for (uint32_t i = 0; i < wire::kIocFilterMaxHashes; ++i) {
        if (i >= header.hashes) break;
        const uint32_t b = probe_bit(key_hash, i);
        block[b / 64] |= uint64_t{1} << (b % 64);
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
        // ioc_key_hash(addr16, true, len), with the first round from the table.
        const uint64_t lengths[1] = {header.v4_lengths};
        const uint64_t lo = load_be64(addr16 + 8);
        for (uint32_t i = 0; i < kV4Lengths; ++i) {
            const uint32_t len = kV4Lengths - 1 - i;
            if (length_set(lengths, len) &&
                probes_hit(header, words,
                           second_round(kV4Seeds.first[len], lo & top_bits(32 + len)))) {
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
