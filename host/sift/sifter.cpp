#include "sift/sifter.hpp"

#include <cstring>

#include "event/cef_leef.hpp"
#include "event/format.hpp"
#include "sift/message_addresses.hpp"

namespace tapsift::sift {
namespace {

void copy_addr(const uint8_t *from, uint8_t *to) {
    std::memcpy(to, from, 16);
}

int on_regex_match(unsigned id, unsigned long long, unsigned long long, unsigned, void *ctx) {
    static_cast<uint64_t *>(ctx)[id / 64] |= uint64_t{1} << (id % 64);
    return 0;  // keep scanning: other regex rules may match too
}

}  // namespace

Sifter::Sifter(const RulesetSource &source) : source_(source), generation_(~uint64_t{0}) {
    refresh();
}

Sifter::~Sifter() {
    hs_free_scratch(scratch_);
}

void Sifter::refresh() {
    const uint64_t generation = source_.generation();
    if (generation == generation_) return;
    fold_counters();
    ruleset_ = source_.current();
    generation_ = generation;
    if (ruleset_->regex_db() != nullptr &&
        hs_alloc_scratch(ruleset_->regex_db(), &scratch_) != HS_SUCCESS) {
        throw std::bad_alloc();
    }
    const size_t n = ruleset_->rules().size();
    counters_.assign(n, RuleCounters{});
    sample_seen_.assign(n, 0);
    regex_hits_.assign(ruleset_->tables().rule_words, 0);
    candidates_.assign(wire::kMaxPrefilterRules / 64, 0);
}

void Sifter::fold_counters() {
    if (!ruleset_) return;
    for (size_t i = 0; i < counters_.size(); ++i) retired_[ruleset_->rules()[i].id] += counters_[i];
}

std::map<std::string, RuleCounters> Sifter::rule_counters() const {
    std::map<std::string, RuleCounters> all = retired_;
    for (size_t i = 0; i < counters_.size(); ++i) all[ruleset_->rules()[i].id] += counters_[i];
    return all;
}

void fill_syslog_record(HostRecord &r, const wire::PrefilterTables &t,
                        const wire::IngestRecordHeader &rec, const uint8_t *payload,
                        const wire::Descriptor &d, const event::SecEvent *sec) {
    hls_kernels::syslog_features(t, d, payload, rec.src_addr, rec.dst_addr, r.features);
    r.features.ioc_maybe = d.sift.ioc_maybe;
    r.sec = sec;
    r.message = {reinterpret_cast<const char *>(payload) + d.message.off, d.message.len};
}

const SiftDecision &Sifter::decide_syslog(const wire::IngestRecordHeader &rec,
                                          const uint8_t *payload, const wire::Descriptor &d,
                                          const event::SecEvent *sec) {
    HostRecord &r = record_;
    if (d.verdict == static_cast<uint8_t>(wire::Verdict::kUndecided)) {
        fill_syslog_record(r, ruleset_->tables(), rec, payload, d, sec);
    } else {  // only threat confirmation may need the record
        copy_addr(rec.src_addr, r.features.src);
        copy_addr(rec.dst_addr, r.features.dst);
        r.sec = sec;
        r.message = {reinterpret_cast<const char *>(payload) + d.message.off, d.message.len};
    }
    r.features.kind = wire::kKindSyslog;
    return decide(r, d.verdict, d.rule_id, d.sift);
}

const SiftDecision &Sifter::decide_flow(const wire::FlowDescriptor &d, const uint8_t exporter[16]) {
    HostRecord &r = record_;
    hls_kernels::flow_features(d, exporter, r.features);
    r.features.ioc_maybe = d.sift.ioc_maybe;
    r.sec = nullptr;
    r.message = {};
    return decide(r, d.verdict, d.rule_id, d.sift);
}

const SiftDecision &Sifter::decide_sflow(const wire::SflowSample &s) {
    HostRecord &r = record_;
    hls_kernels::sflow_features(s, r.features);
    r.features.ioc_maybe = s.sift.ioc_maybe;
    r.sec = nullptr;
    r.message = {};
    return decide(r, s.verdict, s.rule_id, s.sift);
}

namespace {

// The address a CEF/LEEF payload gives as its src or dst, if it is one.
bool sec_address(const event::SecEvent *sec, const char *key, std::array<uint8_t, 16> &out) {
    const std::string *v = sec ? sec->field(key) : nullptr;
    return v != nullptr && parse_address(*v, out);
}

}  // namespace

void Sifter::confirm_threats(const HostRecord &r, uint8_t places) {
    threat_places_hit_ = 0;
    atomics_.clear();
    hits_.clear();
    const IocSet &iocs = ruleset_->indicators();
    const auto check = [&](const uint8_t *addr, uint8_t place, const char *field) {
        const Indicator *ind = iocs.lookup(addr);
        if (ind == nullptr) return;
        threat_places_hit_ |= place;
        std::string atomic(event::address_text(addr).view());
        for (size_t h = 0; h < hits_.size(); ++h) {
            if (atomics_[h] == atomic && std::strcmp(hits_[h].field, field) == 0) return;
        }
        atomics_.push_back(std::move(atomic));
        hits_.push_back({ind, field});
    };
    if (r.features.kind != wire::kKindSyslog) {
        if (places & wire::kIocSource) check(r.features.src, wire::kIocSource, "source.ip");
        if (places & wire::kIocDestination)
            check(r.features.dst, wire::kIocDestination, "destination.ip");
        return;
    }
    // A CEF/LEEF src/dst is the event's ECS source/destination; the sender is then
    // log.source.address (syslog_event.cpp). Both count as the rule place 'source'.
    std::array<uint8_t, 16> sec_src{}, sec_dst{};
    const bool has_src = sec_address(r.sec, "src", sec_src);
    const bool has_dst = sec_address(r.sec, "dst", sec_dst);
    if (places & wire::kIocSource)
        check(r.features.src, wire::kIocSource, has_src ? "log.source.address" : "source.ip");
    if (!(places & wire::kIocMessage) || r.message.empty()) return;
    find_message_addresses(r.message, addresses_);
    for (const auto &a : addresses_) {
        if (has_src && a == sec_src) {
            check(a.data(), wire::kIocSource | wire::kIocMessage, "source.ip");
        } else if (has_dst && a == sec_dst) {
            check(a.data(), wire::kIocDestination | wire::kIocMessage, "destination.ip");
        } else {
            check(a.data(), wire::kIocMessage, "message");
        }
    }
}

void Sifter::scan_regexes(std::string_view message) {
    if (regex_scanned_) return;
    regex_scanned_ = true;
    std::fill(regex_hits_.begin(), regex_hits_.end(), 0);
    if (ruleset_->regex_db() == nullptr) return;
    hs_scan(ruleset_->regex_db(), message.data(), static_cast<unsigned>(message.size()), 0,
            scratch_, on_regex_match, regex_hits_.data());
}

bool Sifter::regex_matches(uint32_t rule, std::string_view message) {
    scan_regexes(message);
    return (regex_hits_[rule / 64] >> (rule % 64)) & 1;
}

const char *Sifter::check_rule(uint32_t i, const HostRecord &r) {
    const wire::PrefilterTables &t = ruleset_->tables();
    const hls_kernels::PredicateFail fail =
        hls_kernels::rule_kernel_check(t, t.rules[i], r.features);
    if (fail != hls_kernels::PredicateFail::kNone) return hls_kernels::predicate_name(fail);
    const Rule &rule = ruleset_->rules()[i];
    if (!rule.regex.empty() && !regex_matches(i, r.message)) return "regex";
    for (const auto &[key, value] : rule.sec_fields) {
        const std::string *have = r.sec ? r.sec->field(key) : nullptr;
        if (have == nullptr || *have != value) return "cef/leef field";
    }
    if (rule.threat_intel && !(threat_places_hit_ & rule.threat_intel)) return "threat_intel";
    return nullptr;
}

const SiftDecision &Sifter::decide(const HostRecord &r, uint8_t verdict, uint16_t rule_id,
                                   const wire::SiftResult &sift) {
    SiftDecision &out = decision_;
    out.drop = false;
    out.rule = wire::kNoRule;
    out.topic = nullptr;
    out.annotations.clear();
    regex_scanned_ = false;
    const std::vector<Rule> &rules = ruleset_->rules();
    const uint32_t n = static_cast<uint32_t>(rules.size());
    const auto tag = [&](uint32_t i) {
        counters_[i].matched++;
        counters_[i].tagged++;
        for (const std::string &t : rules[i].tags) out.annotations.tags.push_back(t);
    };
    if (verdict == static_cast<uint8_t>(wire::Verdict::kFiltered)) {
        out.drop = true;
        out.rule = rule_id;
        if (rule_id < n) {
            counters_[rule_id].matched++;
            counters_[rule_id].dropped++;
        }
        for (uint32_t k = 0; k < sift.tag_count && k < wire::kMaxTagsPerRecord; ++k) {
            if (sift.tag_rules[k] < n) tag(sift.tag_rules[k]);
        }
        return out;
    }
    for (uint32_t k = 0; k < sift.tag_count && k < wire::kMaxTagsPerRecord; ++k) {
        if (sift.tag_rules[k] < n) tag(sift.tag_rules[k]);
    }
    threat_places_hit_ = 0;
    hits_.clear();
    if (sift.ioc_maybe) confirm_threats(r, sift.ioc_maybe);
    uint32_t decided = verdict == static_cast<uint8_t>(wire::Verdict::kUndecided) ? n : rule_id;
    if (verdict == static_cast<uint8_t>(wire::Verdict::kUndecided)) {
        // The kernel's candidates, from where it stopped, in rule order.
        hls_kernels::collect_candidates(ruleset_->tables(), r.features, candidates_.data());
        const uint32_t words = ruleset_->tables().rule_words;
        if (ruleset_->regex_db() != nullptr) {
            // One scan decides every regex rule: only those whose regex matched stay candidates.
            scan_regexes(r.message);
            const std::vector<uint64_t> &regex_rules = ruleset_->regex_rules();
            for (uint32_t w = 0; w < words; ++w) candidates_[w] &= ~regex_rules[w] | regex_hits_[w];
        }
        for (uint32_t w = rule_id / 64; w < words && decided == n; ++w) {
            uint64_t bits = candidates_[w];
            if (w == rule_id / 64) bits &= ~uint64_t{0} << (rule_id % 64);
            while (bits != 0 && decided == n) {
                const uint32_t i = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
                bits &= bits - 1;
                if (check_rule(i, r) != nullptr) continue;
                if (rules[i].action == Action::kTag) {
                    tag(i);
                    continue;
                }
                decided = i;
            }
        }
    }
    for (size_t h = 0; h < hits_.size(); ++h) {
        const Indicator &ind = *hits_[h].indicator;
        out.annotations.threats.push_back({atomics_[h], hits_[h].field, ind.value, ind.type,
                                           ind.provider, ind.description, ind.reference});
    }
    if (decided >= n) {
        out.drop = ruleset_->default_drop();
        return out;
    }
    const Rule &rule = rules[decided];
    RuleCounters &c = counters_[decided];
    out.rule = static_cast<uint16_t>(decided);
    out.annotations.rule = rule.id;
    for (const std::string &t : rule.tags) out.annotations.tags.push_back(t);
    c.matched++;
    switch (rule.action) {
        case Action::kDrop:
            out.drop = true;
            c.dropped++;
            break;
        case Action::kSample:
            out.drop = sample_seen_[decided]++ % rule.sample_one_in != 0;
            (out.drop ? c.dropped : c.kept)++;
            break;
        case Action::kRoute:
            out.topic = &ruleset_->topic_of(rule);
            c.routed++;
            break;
        case Action::kKeep:
        case Action::kTag:
            c.kept++;
            break;
    }
    return out;
}

}  // namespace tapsift::sift
