// What `run` shows while it runs: the Prometheus endpoint (metrics.listen) and the periodic
// one-line summary in the log (metrics.log_interval_s), both fed by the lcores' snapshots.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lcore_snapshot.hpp"

namespace prometheus {
class Exposer;
}

namespace tapsift {
namespace kafka {
class Producer;
}

class PrometheusCollector;

class MetricsService {
  public:
    // listen is HOST:PORT or "off"; log_interval_s 0 means no summary line; top_sources: the
    // senders and exporters shown by address.
    MetricsService(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores,
                   const kafka::Producer &producer, const std::string &listen,
                   uint32_t log_interval_s, uint32_t top_sources);
    ~MetricsService();
    MetricsService(const MetricsService &) = delete;
    MetricsService &operator=(const MetricsService &) = delete;

    // The NICs' counters, set while the EAL is up and cleared before it goes.
    void set_port_stats(std::function<PortCounters()> read);

  private:
    void log_loop(uint32_t interval_s);

    const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores_;
    std::shared_ptr<PrometheusCollector> collector_;
    std::unique_ptr<prometheus::Exposer> exposer_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread logger_;
};

}  // namespace tapsift
