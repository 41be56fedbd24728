#include "metrics_service.hpp"

#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "prometheus_collector.hpp"

namespace tapsift {

MetricsService::MetricsService(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores,
                               const kafka::Producer &producer, const std::string &listen,
                               uint32_t log_interval_s, uint32_t top_sources)
    : lcores_(lcores),
      collector_(std::make_shared<PrometheusCollector>(lcores, producer, top_sources)) {
    if (listen != "off") {
        // A taken port costs the endpoint, not the telemetry: run goes on, and says so (a
        // scraping Prometheus sees the target down).
        try {
            exposer_ = std::make_unique<prometheus::Exposer>(listen);
            exposer_->RegisterCollectable(collector_);
            spdlog::info("metrics: Prometheus endpoint at http://{}/metrics", listen);
        } catch (const std::exception &e) {
            spdlog::error("metrics.listen {}: cannot listen ({}); running without the endpoint",
                          listen, e.what());
        }
    }
    if (log_interval_s > 0)
        logger_ = std::thread([this, log_interval_s] { log_loop(log_interval_s); });
}

MetricsService::~MetricsService() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (logger_.joinable()) logger_.join();
}

void MetricsService::set_port_stats(std::function<PortCounters()> read) {
    collector_->set_port_stats(std::move(read));
}

void MetricsService::log_loop(uint32_t interval_s) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, std::chrono::seconds(interval_s), [this] { return stopping_; })) {
        spdlog::info("{}", summary_line(sum_snapshots(lcores_)));
    }
}

}  // namespace tapsift
