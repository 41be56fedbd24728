// Times each batch from its submit to the offload backend to its collect. Backends return batches
// in submission order, so the submit times wait in a FIFO as long as the backend's ring, fixed at
// construction: timing never allocates.
#pragma once

#include <chrono>
#include <stdexcept>
#include <vector>

#include "metrics/duration_histogram.hpp"

namespace tapsift::pipeline {

class BatchTimer {
  public:
    // in_flight: the most batches the backend holds at once (offload.ring_slots; the cpu
    // backend holds one).
    explicit BatchTimer(size_t in_flight) : submitted_(in_flight) {}

    void submitted(std::chrono::steady_clock::time_point t) {
        // More than the ring holds cannot be in flight: a miscount here would skew every time.
        if (size_ == submitted_.size())
            throw std::logic_error("batch timer: more in flight than the ring holds");
        submitted_[(head_ + size_) % submitted_.size()] = t;
        size_++;
    }
    // The oldest batch in flight was collected now: its time goes into into.
    void collected(std::chrono::steady_clock::time_point now, DurationHistogram &into) {
        if (size_ == 0) return;
        into.observe(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - submitted_[head_]).count());
        head_ = (head_ + 1) % submitted_.size();
        size_--;
    }

  private:
    std::vector<std::chrono::steady_clock::time_point> submitted_;
    size_t head_ = 0;
    size_t size_ = 0;
};

}  // namespace tapsift::pipeline
