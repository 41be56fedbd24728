// The Prometheus view of the lcores' published counters (prometheus-cpp pull exposer). Each
// scrape sums the last snapshots: nothing is kept here, so the figures are those of the
// accounting identity in counters.hpp, under Prometheus names; beside them the breakdowns (per
// rule, RX queue, top sender and exporter) and the batch and delivery time histograms.
#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "kafka/producer.hpp"
#include "lcore_snapshot.hpp"

namespace tapsift {

class PrometheusCollector : public prometheus::Collectable {
  public:
    // top_sources: senders (exporters) shown by address; the rest are summed as "other".
    PrometheusCollector(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores,
                        const kafka::Producer &producer, size_t top_sources)
        : lcores_(lcores), producer_(producer), top_n_(top_sources) {}
    std::vector<prometheus::MetricFamily> Collect() const override;
    // The NICs' counters while the ports are up; an empty function once they are gone.
    void set_port_stats(std::function<PortCounters()> read);

  private:
    const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores_;
    const kafka::Producer &producer_;  // its delivery counters are atomics, its spool locked
    size_t top_n_;
    mutable std::mutex port_mu_;
    std::function<PortCounters()> port_stats_;
};

// The sum of every lcore's last snapshot.
Counters sum_snapshots(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores);

// The one-line summary the log gets every metrics.log_interval_s.
std::string summary_line(const Counters &c);

}  // namespace tapsift
