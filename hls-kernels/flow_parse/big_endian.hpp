// Big-endian reads of NetFlow/IPFIX fields (network byte order), for flow_parse and the template
// record parser.
#pragma once

#include <cstdint>

namespace tapsift::hls_kernels {

inline uint64_t be_bytes(const uint8_t *p, uint32_t n) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < 8; ++i) {
        if (i >= n) break;
        v = (v << 8) | p[i];
    }
    return v;
}

inline uint64_t be4(const uint8_t *p) {
    return (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
}

// Big-endian read of n <= 8 bytes. The common widths are spelled out: compilers turn them into
// one load and a byte swap, and in hardware they are wiring either way.
inline uint64_t read_be(const uint8_t *p, uint32_t n) {
    switch (n) {
        case 1:
            return p[0];
        case 2:
            return (uint64_t{p[0]} << 8) | p[1];
        case 4:
            return be4(p);
        case 8:
            return (be4(p) << 32) | be4(p + 4);
        default:
            return be_bytes(p, n);
    }
}

inline uint32_t be16(const uint8_t *p) {
    return static_cast<uint32_t>(read_be(p, 2));
}
inline uint32_t be32(const uint8_t *p) {
    return static_cast<uint32_t>(read_be(p, 4));
}

}  // namespace tapsift::hls_kernels
