// SIGHUP ► rules and indicators loaded again, on a thread of their own, while the lcores go on
// with the ruleset they have. A bad reload keeps the rules in force and says why.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "sift/ruleset_source.hpp"

namespace tapsift::sift {

class Reloader {
  public:
    Reloader(std::string config_path, std::atomic<bool> &requested, RulesetSource &source);
    ~Reloader();  // stops the thread

    uint64_t reloads() const { return reloads_.load(); }
    uint64_t failures() const { return failures_.load(); }
    // Loads now, on the caller's thread; true when the new rules are in force.
    bool reload_now();

  private:
    std::string config_path_;
    std::atomic<bool> &requested_;
    RulesetSource &source_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> reloads_{0}, failures_{0};
    std::thread thread_;
};

}  // namespace tapsift::sift
