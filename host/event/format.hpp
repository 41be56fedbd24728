// Text forms every event uses: RFC 3339 UTC timestamps and IP addresses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tapsift::event {

// Text kept on the stack: these run several times per event, where a std::string would
// allocate.
struct ShortText {
    char text[48];
    uint8_t len;
    std::string_view view() const { return {text, len}; }
};

// "2003-10-11T22:14:15.003Z": milliseconds, micro- or nanoseconds as the value needs.
ShortText timestamp_text(int64_t unix_ns);
// ::ffff:a.b.c.d, the form every address takes on the wire for IPv4.
bool is_ipv4_mapped(const uint8_t addr[16]);
// 192.0.2.1 for IPv4-mapped addresses, RFC 5952 text for IPv6.
ShortText address_text(const uint8_t addr[16]);
// The dotted quad of 4 bytes in network order.
ShortText ipv4_text(const uint8_t addr[4]);
// 00:1b:21:aa:bb:cc.
ShortText mac_text(const uint8_t mac[6]);

inline std::string format_timestamp(int64_t unix_ns) {
    return std::string(timestamp_text(unix_ns).view());
}
inline std::string format_address(const uint8_t addr[16]) {
    return std::string(address_text(addr).view());
}

}  // namespace tapsift::event
