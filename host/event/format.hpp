// Text forms every event uses: RFC 3339 UTC timestamps and IP addresses.
#pragma once

#include <cstdint>
#include <string>

namespace tapsift::event {

// "2003-10-11T22:14:15.003Z": milliseconds, micro- or nanoseconds as the value needs.
std::string format_timestamp(int64_t unix_ns);
// 192.0.2.1 for IPv4-mapped addresses, RFC 5952 text for IPv6.
std::string format_address(const uint8_t addr[16]);

}  // namespace tapsift::event
