// Test helper: the UDP payloads of a capture (Ethernet or Linux cooked), decoded by the data
// plane's own L2-L4 decoder, with their 1-based frame numbers (as tshark numbers them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flow_harness.hpp"

namespace tapsift::testing {

struct UdpPayload {
    uint32_t frame;
    uint8_t src_addr[16];  // IPv4-mapped for IPv4
    uint16_t src_port;
    uint16_t dst_port;
    Bytes bytes;
};

struct CapturePayloads {
    std::vector<UdpPayload> payloads;
    uint32_t skipped_frames = 0;  // another link type, or not a whole UDP datagram
};

// Throws std::runtime_error when the file is not a capture libpcap reads.
CapturePayloads read_udp_payloads(const std::string &path);

}  // namespace tapsift::testing
