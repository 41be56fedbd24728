// IPv4 addresses written in a message (dotted quads), found in one bounded pass over its
// bytes, kernel style. IPv6 text is only flagged as possibly present: the host parses it.
#pragma once

#include <cstdint>

namespace tapsift::hls_kernels {

constexpr uint32_t kMaxMessageIps = 16;

struct MessageIps {
    uint32_t v4[kMaxMessageIps];  // host byte order, in message order, duplicates kept
    uint8_t count;
    uint8_t overflow;      // more than kMaxMessageIps dotted quads: the rest were not listed
    uint8_t v6_candidate;  // a run of hex digits and ':' with at least two ':' was seen
};

void scan_message_ips(const uint8_t *msg, uint32_t len, MessageIps &out);

}  // namespace tapsift::hls_kernels
