// Where lcores get the current ruleset. A reload publishes a new one; each lcore picks it up
// at its next batch, so no packet waits for a reload and none sees half of one.
#pragma once

#include <atomic>
#include <memory>

#include "sift/ruleset.hpp"

namespace tapsift::sift {

class RulesetSource {
  public:
    explicit RulesetSource(std::shared_ptr<const Ruleset> initial) : current_(std::move(initial)) {}

    std::shared_ptr<const Ruleset> current() const { return std::atomic_load(&current_); }
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
    void publish(std::shared_ptr<const Ruleset> next) {
        std::atomic_store(&current_, std::move(next));
        generation_.fetch_add(1, std::memory_order_release);
    }

  private:
    std::shared_ptr<const Ruleset> current_;
    std::atomic<uint64_t> generation_{0};
};

}  // namespace tapsift::sift
