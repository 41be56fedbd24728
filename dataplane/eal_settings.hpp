// What EAL and port bring-up need to know, filled by the host from its config
// (host/pipeline/dataplane_settings.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tapsift::dataplane {

struct PortSettings {
    std::string device;  // a PCI address (0000:3b:00.0) or a vdev spec (net_pcap0,rx_pcap=x.pcap)
    uint32_t rx_queues = 0;
};

struct EalSettings {
    std::vector<std::string> eal_args;
    std::vector<uint32_t> lcores;  // one RX loop per lcore; the first is the main lcore
    std::vector<PortSettings> ports;
    uint32_t mbufs_per_queue = 0;
    uint32_t rx_descriptors = 0;
};

}  // namespace tapsift::dataplane
