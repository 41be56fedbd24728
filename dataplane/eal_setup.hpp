// EAL and port bring-up from the settings the host fills. Kept apart from the RX loop
// (lcore_loop.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eal_settings.hpp"
#include "port_counters.hpp"
#include "ring_port.hpp"

struct rte_mempool;

namespace tapsift::dataplane {

struct RxQueue {
    uint16_t port_id;
    uint16_t queue_id;
    std::string port_name;
    // ns per unit of the mbuf timestamp dynfield, or 0 to stamp with the host clock. Only
    // net_pcap's is wall-clock time (the capture's, in microseconds); a NIC's runs on its own
    // clock.
    uint32_t timestamp_ns_per_unit;
};

class Eal {
  public:
    // Builds the EAL argv from the EAL arguments, lcores and ports; throws std::runtime_error.
    explicit Eal(const EalSettings &settings);
    ~Eal();
    Eal(const Eal &) = delete;
    Eal &operator=(const Eal &) = delete;

    // Configures and starts every port, one mempool per RX queue; returns the queues.
    std::vector<RxQueue> start_ports(const EalSettings &settings);
    PortCounters port_stats() const;

  private:
    std::vector<std::string> argv_storage_;  // rte_eal_init keeps pointers into argv
    std::vector<char *> argv_;
    std::vector<uint16_t> ports_;
    std::vector<std::unique_ptr<RingPort>> ring_ports_;
};

std::vector<std::string> eal_arguments(const EalSettings &settings);

}  // namespace tapsift::dataplane
