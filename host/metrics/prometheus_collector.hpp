// The Prometheus view of the lcores' published counters (prometheus-cpp pull exposer). Each
// scrape sums the last snapshots: nothing is kept here, so the figures are those of the
// accounting identity in counters.hpp, under Prometheus names.
#pragma once

#include <prometheus/collectable.h>

#include <memory>
#include <vector>

#include "lcore_snapshot.hpp"

namespace tapsift {

class PrometheusCollector : public prometheus::Collectable {
  public:
    explicit PrometheusCollector(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores)
        : lcores_(lcores) {}
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores_;
};

// The sum of every lcore's last snapshot.
Counters sum_snapshots(const std::vector<std::unique_ptr<LcoreSnapshot>> &lcores);

// The one-line summary the log gets every metrics.log_interval_s.
std::string summary_line(const Counters &c);

}  // namespace tapsift
