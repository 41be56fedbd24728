// An lcore's counters as last published for readers on other threads (the metrics endpoint, the
// log summary). The lcore never waits: if a reader holds the lock, it publishes next time.
#pragma once

#include <chrono>
#include <mutex>

#include "counters.hpp"

namespace tapsift {

class LcoreSnapshot {
  public:
    explicit LcoreSnapshot(std::chrono::milliseconds interval) : interval_(interval) {}

    // Called by the lcore after each batch and when idle; copies at most once per interval.
    void publish_if_due(const Counters &host, const dataplane::RxCounters &rx) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < interval_ || !mu_.try_lock()) return;
        counters_ = host;
        counters_.add_rx(rx);
        mu_.unlock();
        last_ = now;
    }

    // After the lcore has stopped: the final figures, waiting for the lock.
    void publish(const Counters &host, const dataplane::RxCounters &rx) {
        std::lock_guard<std::mutex> lock(mu_);
        counters_ = host;
        counters_.add_rx(rx);
    }

    // Adds the last published counters to sum.
    void add_to(Counters &sum) const {
        std::lock_guard<std::mutex> lock(mu_);
        sum += counters_;
    }

  private:
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point last_{};  // the lcore's own
    mutable std::mutex mu_;
    Counters counters_;
};

}  // namespace tapsift
