// An lcore's counters (and their breakdown) as last published for readers on other threads (the
// metrics endpoint, the log summary). The lcore never waits: if a reader holds the lock, it
// publishes next time.
#pragma once

#include <chrono>
#include <mutex>

#include "counters.hpp"
#include "lcore_breakdown.hpp"

namespace tapsift {

class LcoreSnapshot {
  public:
    explicit LcoreSnapshot(std::chrono::milliseconds interval) : interval_(interval) {}

    // Called by the lcore after each batch and when idle; copies at most once per interval.
    // fill(LcoreBreakdown &) writes the breakdown, only when due.
    template <typename Fill>
    void publish_if_due(const Counters &host, const dataplane::RxCounters &rx, const Fill &fill) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < interval_ || !mu_.try_lock()) return;
        counters_ = host;
        counters_.add_rx(rx);
        fill(breakdown_);
        mu_.unlock();
        last_ = now;
    }

    // After the lcore has stopped: the final figures, waiting for the lock.
    template <typename Fill>
    void publish(const Counters &host, const dataplane::RxCounters &rx, const Fill &fill) {
        std::lock_guard<std::mutex> lock(mu_);
        counters_ = host;
        counters_.add_rx(rx);
        fill(breakdown_);
    }

    // Adds the last published counters to sum.
    void add_to(Counters &sum) const {
        std::lock_guard<std::mutex> lock(mu_);
        sum += counters_;
    }

    // Calls read(const LcoreBreakdown &) with the last published breakdown, under the lock.
    template <typename Read>
    void read_breakdown(const Read &read) const {
        std::lock_guard<std::mutex> lock(mu_);
        read(breakdown_);
    }

  private:
    std::chrono::milliseconds interval_;
    std::chrono::steady_clock::time_point last_{};  // the lcore's own
    mutable std::mutex mu_;
    Counters counters_;
    LcoreBreakdown breakdown_;
};

}  // namespace tapsift
