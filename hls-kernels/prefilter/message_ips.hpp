// IPv4 addresses written in a message (dotted quads), found in one bounded pass over its
// bytes, kernel style. IPv6 text is only flagged as possibly present: the host parses it.
//
// A dotted quad is four decimal octets 0..255 of 1-3 digits (leading zeros read as decimal)
// joined by '.', forming a whole run of digits and dots: "1.2.3.4.5" and "311.2.3.4" hold no
// address, "ip=10.0.0.1," and "10.0.0.1:443" do. One '.' may end the run when no letter
// follows it: a full stop ("from 10.0.0.1."), not a name ("4.3.2.1.in-addr.arpa"). Letters
// do not bound a run otherwise ("v1.2.3.4" lists 1.2.3.4).
//
// v6_candidate: a run of [0-9A-Fa-f:] with at least two ':' and one hex digit, unless it is a
// clock time (exactly three 2-digit decimal groups, "hh:mm:ss"), which every syslog header has.
// Every IPv6 text inet_pton accepts but "::" has its ':'s in such a run, so a clear flag lets
// the host skip the IPv6 search.
#pragma once

#include <cstdint>

#include "wire/ingest_batch.hpp"

namespace tapsift::hls_kernels {

constexpr uint32_t kMaxMessageIps = 16;
// Bytes past this (a UDP payload's maximum) are not scanned.
constexpr uint32_t kMaxMessageScanBytes = wire::kMaxPayloadBytes;

struct MessageIps {
    uint32_t v4[kMaxMessageIps];      // host byte order, in message order, duplicates kept
    uint32_t v4_pos[kMaxMessageIps];  // offset of the address's first digit in the message
    uint8_t v4_len[kMaxMessageIps];   // its length in bytes (7..15, a final '.' not counted)
    uint8_t count;
    uint8_t overflow;      // more than kMaxMessageIps dotted quads: the rest were not listed
    uint8_t v6_candidate;  // a run of hex digits and ':' with at least two ':' was seen
};

void scan_message_ips(const uint8_t *msg, uint32_t len, MessageIps &out);

}  // namespace tapsift::hls_kernels
