// Every IPv4 and IPv6 address written in a message, for threat-intel matching on the host:
// the kernel's dotted-quad scan (prefilter/message_ips.hpp), plus IPv6 text checked with
// inet_pton.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tapsift::sift {

// Appends to out (16 bytes each, IPv4-mapped for IPv4), in message order; out is cleared first.
void find_message_addresses(std::string_view message, std::vector<std::array<uint8_t, 16>> &out);

}  // namespace tapsift::sift
