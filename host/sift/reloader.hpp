// SIGHUP ► rules and indicators loaded again, on a thread of their own, while the lcores go on
// with the ruleset they have. A bad reload keeps the rules in force and says why. Every other
// changed key is named, in one log line, as applied only at the next restart.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "sift/ruleset_source.hpp"

namespace tapsift::sift {

class Reloader {
  public:
    // running: the config in force (what a reload's keys are compared with).
    Reloader(std::string config_path, const config::Config &running, std::atomic<bool> &requested,
             RulesetSource &source);
    ~Reloader();  // stops the thread

    uint64_t reloads() const { return reloads_.load(); }
    uint64_t failures() const { return failures_.load(); }
    // Loads now, on the caller's thread; true when the new rules are in force.
    bool reload_now();

  private:
    std::string config_path_;
    config::Config running_;
    std::atomic<bool> &requested_;
    RulesetSource &source_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> reloads_{0}, failures_{0};
    std::thread thread_;
};

}  // namespace tapsift::sift
