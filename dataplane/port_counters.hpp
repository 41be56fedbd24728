// What the NICs dropped before the RX loop saw it (rte_eth_stats), summed over ports.
#pragma once

#include <cstdint>

namespace tapsift::dataplane {

struct PortCounters {
    uint64_t imissed = 0;  // no room in the RX ring: the loop fell behind
    uint64_t ierrors = 0;
    uint64_t rx_nombuf = 0;  // no mbuf in the pool
    uint64_t total() const { return imissed + ierrors + rx_nombuf; }
};

}  // namespace tapsift::dataplane
