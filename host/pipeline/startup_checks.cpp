#include "pipeline/startup_checks.hpp"

#include <fmt/format.h>

#include "eal_preflight.hpp"
#include "kafka/property_check.hpp"

namespace tapsift::pipeline {

void check_startup(const config::Config &cfg, std::vector<std::string> &problems) {
    const auto fail = [&](const std::string &key, const std::string &why) {
        problems.push_back(config::problem(cfg, key, why));
    };
    if (cfg.dataplane.ports.empty()) {
        fail("dataplane.ports",
             "no ports configured (add one: a PCI address such as 0000:3b:00.0, or a vdev such as "
             "net_pcap0,rx_pcap=FILE)");
    }
    for (size_t i = 0; i < cfg.dataplane.ports.size(); ++i) {
        const std::string why = dataplane::device_problem(cfg.dataplane.ports[i].device);
        if (!why.empty()) fail(fmt::format("dataplane.ports[{}].device", i), why);
    }
    for (size_t i = 0; i < cfg.dataplane.lcores.size(); ++i) {
        const std::string why = dataplane::lcore_problem(cfg.dataplane.lcores[i]);
        if (!why.empty()) fail(fmt::format("dataplane.lcores[{}]", i), why);
    }
    for (const auto &[key, why] : kafka::property_problems(cfg.kafka.properties)) {
        fail("kafka.properties." + key, why);
    }
}

}  // namespace tapsift::pipeline
