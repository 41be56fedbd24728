#include "eal_setup.hpp"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

namespace tapsift::dataplane {
namespace {

bool is_vdev(const std::string &device) {
    return device.rfind("net_", 0) == 0;
}

bool is_ring(const std::string &device) {
    return device.rfind(kRingDevicePrefix, 0) == 0;
}

std::string device_name(const std::string &device) {
    return device.substr(0, device.find(','));
}

}  // namespace

std::vector<std::string> eal_arguments(const EalSettings &settings) {
    std::vector<std::string> args = {"tapsift"};
    std::string lcores;
    for (uint32_t l : settings.lcores) lcores += fmt::format("{}{}", lcores.empty() ? "" : ",", l);
    args.push_back("-l");
    args.push_back(lcores);
    // The gateway runs the first listed lcore's loop on the calling thread: make it the main one.
    args.push_back("--main-lcore=" + std::to_string(settings.lcores.front()));
    bool any_pci = false;
    for (const auto &p : settings.ports) {
        if (is_ring(p.device)) continue;  // made in-process, after rte_eal_init
        if (is_vdev(p.device)) {
            args.push_back("--vdev=" + p.device);
        } else {
            args.push_back("-a");
            args.push_back(p.device);
            any_pci = true;
        }
    }
    if (!any_pci) args.push_back("--no-pci");
    args.insert(args.end(), settings.eal_args.begin(), settings.eal_args.end());
    return args;
}

Eal::Eal(const EalSettings &settings) : argv_storage_(eal_arguments(settings)) {
    for (auto &a : argv_storage_) argv_.push_back(a.data());
    spdlog::debug("EAL arguments: {}", fmt::join(argv_storage_, " "));
    if (rte_eal_init(static_cast<int>(argv_.size()), argv_.data()) < 0) {
        throw std::runtime_error(fmt::format("EAL init failed: {} (arguments: {})",
                                             rte_strerror(rte_errno),
                                             fmt::join(argv_storage_, " ")));
    }
}

Eal::~Eal() {
    ring_ports_.clear();  // stop the feeders before their ports
    for (uint16_t port : ports_) {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
    }
    rte_eal_cleanup();
}

std::vector<RxQueue> Eal::start_ports(const EalSettings &settings) {
    std::vector<RxQueue> queues;
    for (const auto &p : settings.ports) {
        std::string name = device_name(p.device);
        if (is_ring(p.device)) {
            ring_ports_.push_back(
                std::make_unique<RingPort>(p.device.substr(std::strlen(kRingDevicePrefix)),
                                           static_cast<uint32_t>(ring_ports_.size())));
            name = ring_ports_.back()->name();
        }
        uint16_t port_id = is_ring(p.device) ? ring_ports_.back()->port_id() : 0;
        if (!is_ring(p.device) && rte_eth_dev_get_port_by_name(name.c_str(), &port_id) != 0) {
            throw std::runtime_error("port " + name +
                                     " was not probed by the EAL (check the device string)");
        }
        rte_eth_dev_info info{};
        rte_eth_dev_info_get(port_id, &info);
        if (p.rx_queues > info.max_rx_queues) {
            throw std::runtime_error(
                fmt::format("port {}: {} RX queues requested, the device has {}", name, p.rx_queues,
                            info.max_rx_queues));
        }
        rte_eth_conf conf{};
        if (p.rx_queues > 1) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
        int rc = rte_eth_dev_configure(port_id, static_cast<uint16_t>(p.rx_queues), 0, &conf);
        if (rc != 0)
            throw std::runtime_error(
                fmt::format("port {}: configure failed: {}", name, rte_strerror(-rc)));
        const int socket = rte_eth_dev_socket_id(port_id);
        for (uint16_t q = 0; q < p.rx_queues; ++q) {
            const std::string pool_name = fmt::format("rx_p{}_q{}", port_id, q);
            rte_mempool *pool = rte_pktmbuf_pool_create(pool_name.c_str(), settings.mbufs_per_queue,
                                                        256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
            if (!pool) {
                throw std::runtime_error(fmt::format("port {}: mbuf pool of {} failed: {}", name,
                                                     settings.mbufs_per_queue,
                                                     rte_strerror(rte_errno)));
            }
            rc = rte_eth_rx_queue_setup(port_id, q, static_cast<uint16_t>(settings.rx_descriptors),
                                        socket, nullptr, pool);
            if (rc != 0) {
                throw std::runtime_error(
                    fmt::format("port {} queue {}: setup failed: {}", name, q, rte_strerror(-rc)));
            }
            const bool pcap = std::string(info.driver_name) == "net_pcap";
            queues.push_back(RxQueue{port_id, q, name, pcap ? 1000u : 0u});
        }
        rc = rte_eth_dev_start(port_id);
        if (rc != 0)
            throw std::runtime_error(
                fmt::format("port {}: start failed: {}", name, rte_strerror(-rc)));
        rte_eth_promiscuous_enable(port_id);  // a tap sees other hosts' traffic
        if (is_ring(p.device)) ring_ports_.back()->start();
        ports_.push_back(port_id);
        spdlog::info("port {} ({}) started with {} RX queue(s)", name, info.driver_name,
                     p.rx_queues);
    }
    return queues;
}

PortCounters Eal::port_stats() const {
    PortCounters total;
    for (uint16_t port : ports_) {
        rte_eth_stats s{};
        if (rte_eth_stats_get(port, &s) != 0) continue;
        total.imissed += s.imissed;
        total.ierrors += s.ierrors;
        total.rx_nombuf += s.rx_nombuf;
    }
    return total;
}

}  // namespace tapsift::dataplane
