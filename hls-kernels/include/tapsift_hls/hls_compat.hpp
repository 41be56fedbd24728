// Kernels include this one header: the Vitis headers when present, ours otherwise.
#pragma once

#include <cstdint>

#if __has_include(<ap_int.h>) && __has_include(<hls_stream.h>)
#include <ap_int.h>
#include <hls_stream.h>
#else
#include "tapsift_hls/ap_int_compat.hpp"
#include "tapsift_hls/hls_stream_compat.hpp"
#endif

namespace tapsift::hls_kernels {
// One AXI/DMA beat: 64 bytes, byte i at bits [8i+7, 8i].
using beat_t = ap_uint<512>;
constexpr int kBeatBytes = 64;

// Beat <-> bytes. In hardware, slicing a beat into bytes is wiring; on a CPU with our ap_uint it
// is a single copy, since its words are stored little-endian (the layout tests hold them equal).
inline void beat_to_bytes(const beat_t &beat, uint8_t out[kBeatBytes]) {
#ifdef TAPSIFT_AP_INT_COMPAT
    beat.to_bytes(out);
#else
    for (int i = 0; i < kBeatBytes; ++i) {
#pragma HLS UNROLL
        out[i] = static_cast<uint8_t>(beat.range(8 * i + 7, 8 * i));
    }
#endif
}

inline void bytes_to_beat(const uint8_t in[kBeatBytes], beat_t &beat) {
#ifdef TAPSIFT_AP_INT_COMPAT
    beat.from_bytes(in);
#else
    for (int i = 0; i < kBeatBytes; ++i) {
#pragma HLS UNROLL
        beat.range(8 * i + 7, 8 * i) = in[i];
    }
#endif
}
}  // namespace tapsift::hls_kernels
