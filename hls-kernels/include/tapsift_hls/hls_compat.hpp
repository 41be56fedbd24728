// Kernels include this one header: the Vitis headers when present, ours otherwise.
#pragma once

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
}  // namespace tapsift::hls_kernels
