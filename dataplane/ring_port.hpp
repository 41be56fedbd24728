// An in-process port fed from a capture (`ring:FILE` in dataplane.ports): rte_eth_from_ring over
// an rte_ring that a feeder thread fills with the capture's frames, looped, as fast as the RX loop
// takes them. It measures the pipeline without a NIC or a pcap reader in the way.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

struct rte_ring;
struct rte_mempool;

namespace tapsift::dataplane {

constexpr const char *kRingDevicePrefix = "ring:";

class RingPort {
  public:
    // After rte_eal_init. Reads the capture, creates the ring, the feeder's mbuf pool and the
    // port; throws std::runtime_error.
    RingPort(const std::string &capture, uint32_t index);
    ~RingPort();
    RingPort(const RingPort &) = delete;
    RingPort &operator=(const RingPort &) = delete;

    const std::string &name() const { return name_; }
    uint16_t port_id() const { return port_id_; }
    // Starts feeding; the destructor stops it.
    void start();

  private:
    void feed();

    std::string name_;
    uint16_t port_id_ = 0;
    std::vector<std::vector<uint8_t>> frames_;
    rte_ring *ring_ = nullptr;
    rte_mempool *pool_ = nullptr;
    std::atomic<bool> stop_{false};
    std::thread feeder_;
};

}  // namespace tapsift::dataplane
