// The IANA IPFIX information elements (generated from python3-ipfix's model at build time):
// what a field is called in events, and how its bytes are shown.
#pragma once

#include <cstdint>
#include <string_view>

namespace tapsift::event {

enum class IeType : uint8_t {
    kUnsigned,
    kSigned,
    kFloat,
    kBoolean,
    kMac,
    kString,
    kIpv4,
    kIpv6,
    kSeconds,
    kMilliseconds,
    kNtpMicroseconds,
    kNtpNanoseconds,
    kOctets,  // octetArray, lists, and anything else: hex
};

struct IeInfo {
    uint16_t id;
    std::string_view name;  // snake_case, as Elastic's netflow input names it (plain ASCII)
    IeType type;
};

// nullptr for an id IANA has not assigned (in the model this build used).
const IeInfo *find_ie(uint16_t id);

}  // namespace tapsift::event
