// libFuzzer: sFlow v5 datagram decode of arbitrary bytes. Every outcome must be a reason in
// range, never more samples than the capacity, and the sample counters must add up.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sflow_parse/sflow_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > tapsift::wire::kMaxPayloadBytes) return 0;
    using tapsift::wire::SflowSample;
    std::vector<SflowSample> out(tapsift::wire::kMaxSflowSamplesPerDatagram);
    for (uint32_t capacity : {0u, 1u, tapsift::wire::kMaxSflowSamplesPerDatagram}) {
        tapsift::hls_kernels::SflowParseCounters ctr{};
        tapsift::wire::SflowMalformed why = tapsift::wire::SflowMalformed::kNone;
        uint32_t lost = 0;
        const SflowSample base{};
        const uint32_t n = tapsift::hls_kernels::sflow_decode_datagram(
            data, static_cast<uint32_t>(size), base, out.data(), capacity, &why, &lost, ctr);
        if (n > capacity || why >= tapsift::wire::SflowMalformed::kCount) std::abort();
        if (ctr.flow_samples + ctr.counter_samples != n + lost) std::abort();
    }
    return 0;
}
