// L2-L4 decode of the packet header an sFlow agent sampled (flow record 1): Ethernet with up to
// two 802.1Q/802.1ad tags, IPv4 / IPv6 (with its common extension headers), TCP/UDP/ICMP.
// Agents cut the header at a fixed length (128 bytes by default), so a header that ends inside
// a layer is normal: what was read is kept and kSflowHeaderCut says the rest is missing.
#pragma once

#include <cstdint>

#include "wire/sflow_sample.hpp"

namespace tapsift::hls_kernels {

// sFlow header_protocol values (sflow_version_5.txt, "enum header_protocol").
constexpr uint32_t kSflowHeaderEthernet = 1;
constexpr uint32_t kSflowHeaderIpv4 = 11;
constexpr uint32_t kSflowHeaderIpv6 = 12;

// Returns false when the protocol is not one of the three above (nothing is decoded).
bool decode_sampled_header(const uint8_t *p, uint32_t len, uint32_t protocol, wire::SflowSample &s);

}  // namespace tapsift::hls_kernels
