// Durations in fixed Prometheus buckets (upper bounds, seconds in the exposition), so observing
// one (per batch, per delivery report) never allocates. Buckets span the backend's batch times
// (tens of microseconds) to a delivery held up by a broker outage (tens of seconds).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tapsift {

struct DurationHistogram {
    static constexpr std::array<int64_t, 20> kUpperBoundsNs = {
        10'000,        25'000,        50'000,        100'000,        250'000,
        500'000,       1'000'000,     2'500'000,     5'000'000,      10'000'000,
        25'000'000,    50'000'000,    100'000'000,   250'000'000,    500'000'000,
        1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000, 30'000'000'000};

    // counts[i]: durations in (bound[i-1], bound[i]]; the last one past every bound (+Inf).
    std::array<uint64_t, kUpperBoundsNs.size() + 1> counts{};
    uint64_t sum_ns = 0;

    static size_t bucket(int64_t ns) {
        size_t i = 0;
        while (i < kUpperBoundsNs.size() && ns > kUpperBoundsNs[i]) ++i;
        return i;
    }
    void observe(int64_t ns) {
        if (ns < 0) ns = 0;  // a clock read out of order is not a negative duration
        counts[bucket(ns)]++;
        sum_ns += static_cast<uint64_t>(ns);
    }
    uint64_t count() const {
        uint64_t n = 0;
        for (uint64_t c : counts) n += c;
        return n;
    }
    DurationHistogram &operator+=(const DurationHistogram &o) {
        for (size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
        sum_ns += o.sum_ns;
        return *this;
    }
};

// The same, observed by one thread (the producer's delivery-report poller) and read by others.
class AtomicDurationHistogram {
  public:
    void observe(int64_t ns) {
        if (ns < 0) ns = 0;
        counts_[DurationHistogram::bucket(ns)].fetch_add(1, std::memory_order_relaxed);
        sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
    }
    DurationHistogram load() const {
        DurationHistogram h;
        for (size_t i = 0; i < counts_.size(); ++i)
            h.counts[i] = counts_[i].load(std::memory_order_relaxed);
        h.sum_ns = sum_ns_.load(std::memory_order_relaxed);
        return h;
    }

  private:
    std::array<std::atomic<uint64_t>, DurationHistogram::kUpperBoundsNs.size() + 1> counts_{};
    std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace tapsift
