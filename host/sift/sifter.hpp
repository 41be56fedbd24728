// The host stage of sifting, one per lcore: applies the kernel's verdict, resumes rule evaluation
// where the kernel left a record undecided (regex through one Hyperscan database, CEF/LEEF fields,
// exact threat-intel confirmation), applies the action (sample, route, tag) and counts per rule.
#pragma once

#include <hs/hs.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "event/annotations.hpp"
#include "prefilter/prefilter.hpp"
#include "sift/rule_counters.hpp"
#include "sift/ruleset_source.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::sift {

struct SiftDecision {
    bool drop = false;
    uint16_t rule = wire::kNoRule;        // the deciding rule
    const std::string *topic = nullptr;   // route: its topic; else the kind's own
    event::EventAnnotations annotations;  // tags, threats, rule id (sec is the caller's)
};

// A record as the rules see it: the kernel's features plus what only the host has.
struct HostRecord {
    hls_kernels::RecordFeatures features;
    const event::SecEvent *sec = nullptr;
    std::string_view message;  // syslog
};

class Sifter {
  public:
    explicit Sifter(const RulesetSource &source);
    ~Sifter();
    Sifter(const Sifter &) = delete;
    Sifter &operator=(const Sifter &) = delete;

    // A reload published a ruleset this sifter has not taken yet.
    bool reload_pending() const { return source_.generation() != generation_; }
    // Between batches: take the ruleset a reload published, if any.
    void refresh();
    const Ruleset &ruleset() const { return *ruleset_; }

    // After the prefilter: for every syslog record it did not find malformed.
    const SiftDecision &decide_syslog(const wire::IngestRecordHeader &rec, const uint8_t *payload,
                                      const wire::Descriptor &d, const event::SecEvent *sec);
    // For every flow record item; exporter is its datagram's source address.
    const SiftDecision &decide_flow(const wire::FlowDescriptor &d, const uint8_t exporter[16]);
    // ... for every sFlow sample, as a flow record (the agent is its exporter).
    const SiftDecision &decide_sflow(const wire::SflowSample &s);

    // Why rule i does not match r: its first failing predicate, or nullptr when it matches.
    // Threat-intel predicates see the hits of the last confirm_threats.
    const char *check_rule(uint32_t i, const HostRecord &r);
    void confirm_threats(const HostRecord &r, uint8_t places);
    void start_record() { regex_scanned_ = false; }

    // Per rule id, across every ruleset this lcore has used.
    std::map<std::string, RuleCounters> rule_counters() const;

  private:
    const SiftDecision &decide(const HostRecord &r, uint8_t verdict, uint16_t rule_id,
                               const wire::SiftResult &sift);
    void fold_counters();
    bool regex_matches(uint32_t rule, std::string_view message);
    void scan_regexes(std::string_view message);

    const RulesetSource &source_;
    std::shared_ptr<const Ruleset> ruleset_;
    uint64_t generation_ = 0;
    hs_scratch_t *scratch_ = nullptr;
    std::vector<RuleCounters> counters_;  // by rule index in ruleset_
    std::vector<uint64_t> sample_seen_;
    std::map<std::string, RuleCounters> retired_;  // from rulesets replaced by reloads
    SiftDecision decision_;
    // Bit r: rule r's regex matched this record's message, which Hyperscan scans at most once.
    std::vector<uint64_t> regex_hits_;
    std::vector<uint64_t> candidates_;  // the candidate bitmap of the record being resumed
    bool regex_scanned_ = false;
    // Confirmed threat-intel hits of the current record.
    struct Hit {
        const Indicator *indicator;
        const char *field;
    };
    std::vector<Hit> hits_;
    std::vector<std::string> atomics_;
    uint8_t threat_places_hit_ = 0;
    std::vector<std::array<uint8_t, 16>> addresses_;
    HostRecord record_;
};

// The rules' view of a syslog record (explain builds it too).
void fill_syslog_record(HostRecord &r, const wire::PrefilterTables &t,
                        const wire::IngestRecordHeader &rec, const uint8_t *payload,
                        const wire::Descriptor &d, const event::SecEvent *sec);

}  // namespace tapsift::sift
