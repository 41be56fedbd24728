// What the threat-intel tests and benchmarks share: a deterministic generator, IPv4-mapped
// addresses, and the blocked Bloom filter's expected false-positive rate.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace tapsift::testing {

using Addr = std::array<uint8_t, 16>;

inline uint64_t splitmix64(uint64_t &state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// An IPv4 address (host byte order) as the kernel holds it: ::ffff:a.b.c.d.
inline Addr v4(uint32_t a) {
    Addr out{};
    out[10] = out[11] = 0xff;
    for (int i = 0; i < 4; ++i) out[12 + i] = static_cast<uint8_t>(a >> (24 - 8 * i));
    return out;
}

// The blocked filter's expected false-positive rate for one key (one address and length) when n
// keys are in m bits, k probes each (Putze, Sanders, Singler 2007): a 512-bit block holds
// Poisson(512 n / m) keys, and one holding i keys answers "maybe" at the classic rate of a
// 512-bit filter, (1 - (1 - 1/512)^(i k))^k. It ignores the probes of one key that share a bit,
// which raise the true rate by about 2% at k = 8 (0.3% at k = 4).
inline double blocked_fp_rate(double m, double n, double k) {
    const double lambda = 512 * n / m;
    const double spread = 12 * std::sqrt(lambda) + 20;
    double fp = 0;
    for (double i = std::max(0.0, std::floor(lambda - spread)); i <= lambda + spread; ++i) {
        const double poisson = std::exp(i * std::log(lambda) - lambda - std::lgamma(i + 1));
        fp += poisson * std::pow(1 - std::pow(1 - 1.0 / 512, i * k), k);
    }
    return fp;
}

}  // namespace tapsift::testing
