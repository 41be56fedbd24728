// Test helper: one record at a time through the sifting stages exactly as the data path runs
// them (the cpu backend's syslog_parse ► prefilter ► host Sifter), from a config written as YAML.
// Flow records are made up field by field, so they skip flow_parse and meet the prefilter
// kernel directly.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "event/cef_leef.hpp"
#include "offload_backend.hpp"
#include "sift/sifter.hpp"

namespace tapsift::testing {

struct SiftOutcome {
    uint8_t kernel_verdict;
    std::string kernel_rule;  // empty: kNoRule
    bool drop;
    std::string rule;   // the deciding rule's id, empty when none
    std::string topic;  // empty: the kind's own
    std::vector<std::string> tags;
    std::vector<std::string> threats;  // "atomic field indicator"
};

struct FlowSpec {
    std::string src = "198.51.100.10", dst = "203.0.113.20", exporter = "192.0.2.1";
    uint16_t src_port = 40000, dst_port = 443;
    uint8_t protocol = 6;
    uint64_t bytes = 1000, packets = 10;
};

class SiftHarness {
  public:
    // config_yaml: a whole config (sift: ...); files it names are relative to the working dir.
    explicit SiftHarness(const std::string &config_yaml);
    // linear: the reference answer instead, every rule checked in order (decision, tags only).
    SiftOutcome syslog(const std::string &message, const std::string &source = "192.0.2.1",
                       bool linear = false);
    SiftOutcome flow(const FlowSpec &spec, bool linear = false);
    sift::Sifter &sifter() { return *sifter_; }
    const config::Config &config() const { return cfg_; }

  private:
    SiftOutcome linear_outcome(sift::HostRecord &r);
    SiftOutcome outcome(uint8_t kernel_verdict, uint16_t kernel_rule,
                        const sift::SiftDecision &d) const;
    config::Config cfg_;
    std::unique_ptr<sift::RulesetSource> source_;
    std::unique_ptr<sift::Sifter> sifter_;
    std::unique_ptr<drivers::OffloadBackend> backend_;
    event::SecEvent sec_;
};

}  // namespace tapsift::testing
