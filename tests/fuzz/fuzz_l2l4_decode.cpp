// libFuzzer: L2-L4 decode of arbitrary frames. Every outcome must be a status, and a UDP or TCP
// result must point inside the frame.
#include <cstdint>
#include <cstdlib>

#include "l2l4_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65535 + 64) return 0;
    for (bool reassembled : {false, true}) {
        const auto p =
            tapsift::dataplane::decode_l2l4(data, static_cast<uint32_t>(size), reassembled);
        const bool has_payload = p.status == tapsift::dataplane::DecodeStatus::kUdp ||
                                 p.status == tapsift::dataplane::DecodeStatus::kTcp;
        if (has_payload && static_cast<size_t>(p.payload_offset) + p.payload_len > size) {
            std::abort();
        }
    }
    return 0;
}
