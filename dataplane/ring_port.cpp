#include "ring_port.hpp"

#include <pcap/pcap.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace tapsift::dataplane {
namespace {

constexpr unsigned kRingSize = 4096;
constexpr unsigned kPoolMbufs = 16383;  // the ring, the RX burst and the reassembly table's share
constexpr unsigned kFeedBurst = 32;

std::vector<std::vector<uint8_t>> read_frames(const std::string &capture) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(capture.c_str(), err);
    if (!p) throw std::runtime_error("ring port: cannot read " + capture + ": " + err);
    std::vector<std::vector<uint8_t>> frames;
    pcap_pkthdr *h = nullptr;
    const u_char *data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (h->caplen <= RTE_MBUF_DEFAULT_DATAROOM) frames.emplace_back(data, data + h->caplen);
    }
    pcap_close(p);
    if (frames.empty())
        throw std::runtime_error("ring port: " + capture + " has no frame that fits an mbuf");
    return frames;
}

}  // namespace

RingPort::RingPort(const std::string &capture, uint32_t index)
    : name_(fmt::format("tapsift_ring{}", index)), frames_(read_frames(capture)) {
    ring_ = rte_ring_create(name_.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_SP_ENQ);
    pool_ = rte_pktmbuf_pool_create((name_ + "_feed").c_str(), kPoolMbufs, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    const int port = ring_ && pool_ ? rte_eth_from_ring(ring_) : -1;
    if (port < 0) {
        throw std::runtime_error(
            fmt::format("ring port {}: cannot create it: {}", name_, rte_strerror(rte_errno)));
    }
    port_id_ = static_cast<uint16_t>(port);
}

RingPort::~RingPort() {
    stop_ = true;
    if (feeder_.joinable()) feeder_.join();
    // The port (closed by Eal) owns nothing here; mbufs still in the ring return to the pool,
    // which outlives it until rte_eal_cleanup.
}

void RingPort::start() {
    feeder_ = std::thread([this] { feed(); });
}

void RingPort::feed() {
    rte_mbuf *burst[kFeedBurst];
    size_t next = 0;
    while (!stop_.load(std::memory_order_relaxed)) {
        if (rte_pktmbuf_alloc_bulk(pool_, burst, kFeedBurst) != 0) continue;  // all in flight
        for (rte_mbuf *m : burst) {
            const std::vector<uint8_t> &f = frames_[next];
            next = next + 1 == frames_.size() ? 0 : next + 1;
            std::memcpy(rte_pktmbuf_mtod(m, uint8_t *), f.data(), f.size());
            m->data_len = static_cast<uint16_t>(f.size());
            m->pkt_len = static_cast<uint32_t>(f.size());
        }
        unsigned sent = 0;
        while (sent < kFeedBurst && !stop_.load(std::memory_order_relaxed))
            sent += rte_ring_enqueue_burst(ring_, reinterpret_cast<void **>(burst + sent),
                                           kFeedBurst - sent, nullptr);
        if (sent < kFeedBurst) rte_pktmbuf_free_bulk(burst + sent, kFeedBurst - sent);
    }
}

}  // namespace tapsift::dataplane
