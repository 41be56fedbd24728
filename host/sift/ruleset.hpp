// A loaded, validated and compiled set of rules: the kernel's tables, one Hyperscan database
// for the regex rules, and the threat-intel indicators. Immutable once built; lcores share it
// through a shared_ptr, and a reload builds a new one beside it (host/sift/ruleset_source).
#pragma once

#include <hs/hs.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sift/ioc_set.hpp"
#include "sift/rule.hpp"
#include "wire/prefilter_tables.hpp"

namespace tapsift::sift {

class Ruleset {
  public:
    // Throws RuleError or IocError, naming the file and line.
    static std::shared_ptr<const Ruleset> load(const config::Config &cfg);
    ~Ruleset();
    Ruleset(const Ruleset &) = delete;
    Ruleset &operator=(const Ruleset &) = delete;

    const std::vector<Rule> &rules() const { return rules_; }
    // A view of image(): what the kernels read.
    const wire::PrefilterTables &tables() const { return tables_; }
    // The tables as one wire/prefilter_image.hpp image (64-byte aligned): what a backend uploads.
    const uint8_t *image() const { return reinterpret_cast<const uint8_t *>(image_.data()); }
    size_t image_bytes() const { return image_.size() * sizeof(ImageBeat); }
    const IocSet &indicators() const { return iocs_; }
    const hs_database_t *regex_db() const { return regex_db_; }  // nullptr: no regex rule
    bool default_drop() const { return tables_.default_drop != 0; }
    // Bit r: rule r has a regex (rule_words words).
    const std::vector<uint64_t> &regex_rules() const { return regex_rules_; }
    // The topic a route rule names ('alerts' is sift.alerts_topic).
    const std::string &topic_of(const Rule &r) const {
        return r.topic == "alerts" ? alerts_topic_ : r.topic;
    }
    // Every topic a route rule can send to (the embedded broker creates them).
    std::vector<std::string> route_topics() const;
    std::string summary() const;  // "12 rules (3 regex), 1000000 indicators"

  private:
    Ruleset() = default;
    void compile(const config::SiftKernel &limits);
    void compile_regexes();
    void compile_index();
    void build_image(bool default_drop);

    std::vector<Rule> rules_;
    IocSet iocs_;
    std::string alerts_topic_;
    hs_database_t *regex_db_ = nullptr;
    // Scratch of compile() and compile_index(), copied into image_ and then released.
    std::vector<wire::PrefilterRule> kernel_rules_;
    std::vector<wire::PrefilterString> strings_;
    std::vector<uint8_t> string_bytes_;
    std::vector<uint32_t> refs_;
    std::vector<wire::PrefilterPrefix> prefixes_;
    std::vector<wire::PrefilterRange> ranges_;
    std::vector<uint32_t> literal_string_;
    std::vector<uint64_t> gram_starts_;
    std::vector<uint16_t> gram_first_, gram_count_, gram_literals_;
    std::vector<uint64_t> always_syslog_, always_flow_;
    std::vector<wire::ListRef> anchor_buckets_, literal_rules_;
    std::vector<uint32_t> postings_;
    std::vector<uint64_t> regex_rules_;
    std::vector<uint64_t> ioc_filter_;
    wire::PrefilterTables tables_{};  // while compiling: into the scratch; then: into image_
    struct alignas(64) ImageBeat {
        uint8_t bytes[64];
    };
    std::vector<ImageBeat> image_;
    size_t prefix_count_ = 0;  // CIDR prefixes in the tables (the summary says)
};

}  // namespace tapsift::sift
