#include "sift/ruleset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "prefilter/ioc_filter.hpp"
#include "prefilter/prefilter.hpp"
#include "sift/rule_loader.hpp"
#include "wire/prefilter_image.hpp"

namespace tapsift::sift {
namespace {

[[noreturn]] void too_many(const Rule &r, const char *what, uint64_t have, uint32_t limit,
                           const char *key) {
    throw RuleError(fmt::format("{}:{}: rule '{}': {} {} exceed {} ({}); raise it in the config",
                                r.file, r.line, r.id, have, what, key, limit));
}

}  // namespace

Ruleset::~Ruleset() {
    hs_free_database(regex_db_);
}

std::shared_ptr<const Ruleset> Ruleset::load(const config::Config &cfg) {
    std::shared_ptr<Ruleset> rs(new Ruleset);
    rs->rules_ = load_rules(cfg);
    for (const std::string &file : cfg.sift.ioc_files) rs->iocs_.load_file(file);
    rs->alerts_topic_ = cfg.sift.alerts_topic;
    rs->compile(cfg.sift.kernel);
    rs->compile_index();
    rs->build_image(cfg.sift.default_action == "drop");
    rs->compile_regexes();
    return rs;
}

void Ruleset::compile(const config::SiftKernel &limits) {
    if (rules_.size() > limits.max_rules)
        too_many(rules_[limits.max_rules], "rules", rules_.size(), limits.max_rules,
                 "sift.kernel.max_rules");
    std::map<std::string, uint32_t> string_ids;
    const auto string_id = [&](const std::string &s) {
        const auto [it, fresh] = string_ids.emplace(s, static_cast<uint32_t>(strings_.size()));
        if (fresh) {
            strings_.push_back(
                {static_cast<uint32_t>(string_bytes_.size()), static_cast<uint32_t>(s.size())});
            string_bytes_.insert(string_bytes_.end(), s.begin(), s.end());
        }
        return it->second;
    };
    std::map<std::string, uint32_t> literal_ids;
    const auto list = [&](auto &&values, auto &&to_ref) {
        const wire::ListRef ref{static_cast<uint32_t>(refs_.size()),
                                static_cast<uint32_t>(values.size())};
        for (const auto &v : values) refs_.push_back(to_ref(v));
        return ref;
    };
    const auto literal = [&](const Rule &r, const std::string &s) {
        const auto [it, fresh] =
            literal_ids.emplace(s, static_cast<uint32_t>(literal_string_.size()));
        if (fresh) {
            if (literal_string_.size() >= limits.max_literals)
                too_many(r, "literals", literal_string_.size() + 1, limits.max_literals,
                         "sift.kernel.max_literals");
            literal_string_.push_back(string_id(s));
        }
        return it->second;
    };
    const auto prefix = [&](const Rule &r, const Cidr &c) {
        if (prefixes_.size() >= limits.max_prefixes)
            too_many(r, "prefixes", prefixes_.size() + 1, limits.max_prefixes,
                     "sift.kernel.max_prefixes");
        wire::PrefilterPrefix p{};
        std::memcpy(p.addr, c.addr.data(), 16);
        p.len = c.len;
        prefixes_.push_back(p);
        return static_cast<uint32_t>(prefixes_.size() - 1);
    };
    const auto range = [&](const Range &x) {
        ranges_.push_back({x.lo, x.hi});
        return static_cast<uint32_t>(ranges_.size() - 1);
    };
    for (const Rule &r : rules_) {
        wire::PrefilterRule k{};
        k.kinds = r.kinds;
        k.action =
            static_cast<uint8_t>(r.action == Action::kDrop  ? wire::PrefilterAction::kDrop
                                 : r.action == Action::kTag ? wire::PrefilterAction::kTag
                                                            : wire::PrefilterAction::kForward);
        k.host_checks = static_cast<uint8_t>((r.regex.empty() ? 0 : wire::kHostRegex) |
                                             (r.sec_fields.empty() ? 0 : wire::kHostSecFields) |
                                             (r.threat_intel ? wire::kHostThreatIntel : 0));
        k.ioc_places = r.threat_intel;
        k.severity_mask = r.severity_mask;
        k.facility_mask = r.facility_mask;
        k.hostnames = list(r.hostnames, string_id);
        k.appnames = list(r.appnames, string_id);
        k.msgids = list(r.msgids, string_id);
        k.literals = list(r.contains, [&](const std::string &s) { return literal(r, s); });
        const auto prefixes = [&](const Cidr &c) { return prefix(r, c); };
        k.sources = list(r.sources, prefixes);
        k.destinations = list(r.destinations, prefixes);
        k.exporters = list(r.exporters, prefixes);
        k.src_ports = list(r.src_ports, range);
        k.dst_ports = list(r.dst_ports, range);
        k.protocols = list(r.protocols, range);
        k.bytes_min = r.bytes_min;
        k.bytes_max = r.bytes_max;
        k.packets_min = r.packets_min;
        k.packets_max = r.packets_max;
        kernel_rules_.push_back(k);
    }
    // The literal index: ids sorted by bucket (first two bytes, or a hash of the first four).
    gram_first_.assign(2 * wire::kGramBuckets, 0);
    gram_count_.assign(2 * wire::kGramBuckets, 0);
    std::vector<std::pair<uint32_t, uint16_t>> by_gram;
    for (uint32_t id = 0; id < literal_string_.size(); ++id) {
        const wire::PrefilterString &lit = strings_[literal_string_[id]];
        const uint8_t *b = string_bytes_.data() + lit.off;
        by_gram.emplace_back(
            lit.len >= 4 ? hls_kernels::literal_gram4(b) : b[0] | (uint32_t{b[1]} << 8),
            static_cast<uint16_t>(id));
    }
    std::sort(by_gram.begin(), by_gram.end());
    gram_starts_.assign(wire::kGramBuckets / 64, 0);
    for (uint32_t id = 0; id < literal_string_.size(); ++id) {
        const uint8_t *b = string_bytes_.data() + strings_[literal_string_[id]].off;
        const uint32_t two = b[0] | (uint32_t{b[1]} << 8);
        gram_starts_[two / 64] |= uint64_t{1} << (two % 64);
    }
    for (const auto &[gram, id] : by_gram) {
        if (gram_count_[gram]++ == 0)
            gram_first_[gram] = static_cast<uint16_t>(gram_literals_.size());
        gram_literals_.push_back(id);
    }
    if (iocs_.size() > 0) ioc_filter_ = iocs_.build_filter(limits.ioc_filter_bytes);
    tables_.rules = kernel_rules_.data();
    tables_.rule_count = static_cast<uint32_t>(kernel_rules_.size());
    tables_.strings = strings_.data();
    tables_.string_count = static_cast<uint32_t>(strings_.size());
    tables_.string_bytes = string_bytes_.data();
    tables_.refs = refs_.data();
    tables_.prefixes = prefixes_.data();
    tables_.ranges = ranges_.data();
    tables_.literal_string = literal_string_.data();
    tables_.literal_count = static_cast<uint32_t>(literal_string_.size());
    tables_.gram_starts = gram_starts_.data();
    tables_.gram_first = gram_first_.data();
    tables_.gram_count = gram_count_.data();
    tables_.gram_literals = gram_literals_.data();
    if (!ioc_filter_.empty()) {
        tables_.ioc_header = reinterpret_cast<const wire::IocFilterHeader *>(ioc_filter_.data());
        tables_.ioc_words = ioc_filter_.data() + sizeof(wire::IocFilterHeader) / 8;
    }
}

namespace {

// A port list is an anchor when it is short: every port is filed.
constexpr uint32_t kMaxAnchorPorts = 64;

bool few_ports(const std::vector<Range> &ranges) {
    uint64_t n = 0;
    for (const Range &r : ranges) n += uint64_t{r.hi} - r.lo + 1;
    return !ranges.empty() && n <= kMaxAnchorPorts;
}

// True when an IPv6 CIDR also holds IPv4-mapped addresses (::/64, ::ffff:0:0/80): the kernel
// looks those up by their IPv4 bytes, so the CIDR's own first bytes say nothing about them.
bool holds_v4_mapped(const Cidr &c) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    for (uint32_t b = 0; b < c.len && b < 96; ++b) {
        const uint8_t mask = static_cast<uint8_t>(0x80 >> (b % 8));
        if ((c.addr[b / 8] & mask) != (kMapped[b / 8] & mask)) return false;
    }
    return true;
}

// How many leading bytes (0, 1 or 2) every CIDR of the list fixes: it is an anchor from 1.
uint32_t fixed_bytes(const std::vector<Cidr> &cidrs) {
    uint32_t fixed = cidrs.empty() ? 0 : 2;
    for (const Cidr &c : cidrs) {
        const bool v4 = hls_kernels::is_v4_mapped(c.addr.data()) && c.len >= 96;
        if (!v4 && holds_v4_mapped(c)) return 0;
        fixed = std::min<uint32_t>(fixed, (c.len - (v4 ? 96 : 0)) / 8);
    }
    return fixed;
}

}  // namespace

void Ruleset::compile_index() {
    const uint32_t n = static_cast<uint32_t>(rules_.size());
    const uint32_t words = (n + 63) / 64;
    regex_rules_.assign(std::max(words, 1u), 0);
    for (uint32_t i = 0; i < n; ++i) {
        if (!rules_[i].regex.empty()) regex_rules_[i / 64] |= uint64_t{1} << (i % 64);
    }
    always_syslog_.assign(std::max(words, 1u), 0);
    always_flow_.assign(std::max(words, 1u), 0);
    std::vector<std::vector<uint32_t>> buckets(wire::kAnchorBuckets),
        literals(literal_string_.size());
    for (uint32_t i = 0; i < n; ++i) {
        const Rule &r = rules_[i];
        const wire::PrefilterRule &k = kernel_rules_[i];
        std::vector<uint32_t> keys;  // buckets this rule is filed under
        const auto strings = [&](uint32_t field, const std::vector<std::string> &values) {
            for (const std::string &v : values) {
                keys.push_back(
                    hls_kernels::anchor_bucket(field, reinterpret_cast<const uint8_t *>(v.data()),
                                               static_cast<uint32_t>(v.size())));
            }
        };
        const auto ports = [&](uint32_t field, const std::vector<Range> &ranges) {
            for (const Range &rg : ranges) {
                for (uint32_t p = rg.lo; p <= rg.hi; ++p) {
                    const uint8_t b[2] = {static_cast<uint8_t>(p >> 8), static_cast<uint8_t>(p)};
                    keys.push_back(hls_kernels::anchor_bucket(field, b, 2));
                }
            }
        };
        const auto cidrs = [&](uint32_t field, const std::vector<Cidr> &list, uint32_t bytes) {
            for (const Cidr &c : list) {
                keys.push_back(
                    hls_kernels::anchor_bucket(bytes == 2 ? field | wire::kAnchorTwoBytes : field,
                                               hls_kernels::anchor_bytes(c.addr.data()), bytes));
            }
        };
        // CIDR lists by how many bytes they fix: two narrow more than a port, one less.
        const struct {
            uint32_t field;
            const std::vector<Cidr> &list;
            uint32_t bytes;
        } addresses[] = {{wire::kAnchorSource, r.sources, fixed_bytes(r.sources)},
                         {wire::kAnchorDestination, r.destinations, fixed_bytes(r.destinations)},
                         {wire::kAnchorExporter, r.exporters, fixed_bytes(r.exporters)}};
        const auto fixing = [&](uint32_t bytes) {
            for (const auto &a : addresses) {
                if (a.bytes == bytes) return &a;
            }
            return static_cast<decltype(&addresses[0])>(nullptr);
        };
        // The most selective predicate the rule has.
        if (!r.hostnames.empty()) {
            strings(wire::kAnchorHostname, r.hostnames);
        } else if (!r.appnames.empty()) {
            strings(wire::kAnchorAppname, r.appnames);
        } else if (!r.msgids.empty()) {
            strings(wire::kAnchorMsgid, r.msgids);
        } else if (k.literals.count > 0) {
            for (uint32_t j = 0; j < k.literals.count; ++j)
                literals[refs_[k.literals.first + j]].push_back(i);
            continue;
        } else if (const auto *a = fixing(2)) {
            cidrs(a->field, a->list, 2);
        } else if (few_ports(r.dst_ports)) {
            ports(wire::kAnchorDstPort, r.dst_ports);
        } else if (few_ports(r.src_ports)) {
            ports(wire::kAnchorSrcPort, r.src_ports);
        } else if (const auto *b = fixing(1)) {
            cidrs(b->field, b->list, 1);
        } else {
            if (r.kinds & wire::kKindSyslog) always_syslog_[i / 64] |= uint64_t{1} << (i % 64);
            if (r.kinds & wire::kKindFlow) always_flow_[i / 64] |= uint64_t{1} << (i % 64);
            continue;
        }
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        for (const uint32_t b : keys) buckets[b].push_back(i);
    }
    const auto flatten = [this](const std::vector<std::vector<uint32_t>> &lists,
                                std::vector<wire::ListRef> &out) {
        out.clear();
        for (const auto &l : lists) {
            out.push_back(
                {static_cast<uint32_t>(postings_.size()), static_cast<uint32_t>(l.size())});
            postings_.insert(postings_.end(), l.begin(), l.end());
        }
    };
    flatten(buckets, anchor_buckets_);
    flatten(literals, literal_rules_);
    tables_.rule_words = words;
    tables_.always_syslog = always_syslog_.data();
    tables_.always_flow = always_flow_.data();
    tables_.anchor_buckets = anchor_buckets_.data();
    tables_.literal_rules = literal_rules_.data();
    tables_.postings = postings_.data();
}

void Ruleset::build_image(bool default_drop) {
    wire::PrefilterImageHeader h{};
    h.magic = wire::kPrefilterImageMagic;
    h.version = wire::kPrefilterImageVersion;
    h.rule_count = tables_.rule_count;
    h.string_count = tables_.string_count;
    h.literal_count = tables_.literal_count;
    h.rule_words = tables_.rule_words;
    h.default_drop = default_drop;
    uint64_t bytes = sizeof h;
    std::vector<std::pair<const void *, size_t>> parts;  // (source, bytes), in offset order
    const auto place = [&](uint64_t &offset, const auto &v) {
        const size_t n = v.size() * sizeof(v[0]);
        offset = n ? bytes : 0;
        if (n) parts.emplace_back(v.data(), n);
        bytes += (n + wire::kBeatBytes - 1) / wire::kBeatBytes * wire::kBeatBytes;
    };
    place(h.at.rules, kernel_rules_);
    place(h.at.strings, strings_);
    place(h.at.string_bytes, string_bytes_);
    place(h.at.refs, refs_);
    place(h.at.prefixes, prefixes_);
    place(h.at.ranges, ranges_);
    place(h.at.literal_string, literal_string_);
    place(h.at.gram_starts, gram_starts_);
    place(h.at.gram_first, gram_first_);
    place(h.at.gram_count, gram_count_);
    place(h.at.gram_literals, gram_literals_);
    place(h.at.always_syslog, always_syslog_);
    place(h.at.always_flow, always_flow_);
    place(h.at.anchor_buckets, anchor_buckets_);
    place(h.at.literal_rules, literal_rules_);
    place(h.at.postings, postings_);
    place(h.at.ioc, ioc_filter_);
    h.image_bytes = bytes;
    prefix_count_ = prefixes_.size();
    image_.assign(bytes / sizeof(ImageBeat), ImageBeat{});
    auto *out = reinterpret_cast<uint8_t *>(image_.data());
    std::memcpy(out, &h, sizeof h);
    const uint64_t *offsets = &h.at.rules;
    size_t part = 0;
    for (size_t i = 0; i < sizeof h.at / sizeof(uint64_t); ++i) {
        if (offsets[i] == 0) continue;
        std::memcpy(out + offsets[i], parts[part].first, parts[part].second);
        ++part;
    }
    bool valid = false;
    tables_ = wire::prefilter_tables_from_image(out, valid);
    kernel_rules_ = {};
    strings_ = {};
    string_bytes_ = {};
    refs_ = {};
    prefixes_ = {};
    ranges_ = {};
    literal_string_ = {};
    gram_starts_ = {};
    gram_first_ = gram_count_ = gram_literals_ = {};
    always_syslog_ = always_flow_ = {};
    anchor_buckets_ = literal_rules_ = {};
    postings_ = {};
    ioc_filter_ = {};
}

void Ruleset::compile_regexes() {
    std::vector<const char *> patterns;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < rules_.size(); ++i) {
        if (rules_[i].regex.empty()) continue;
        patterns.push_back(rules_[i].regex.c_str());
        flags.push_back(HS_FLAG_SINGLEMATCH);
        ids.push_back(static_cast<unsigned>(i));
    }
    if (patterns.empty()) return;
    hs_compile_error_t *err = nullptr;
    if (hs_compile_multi(patterns.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &regex_db_,
                         &err) != HS_SUCCESS) {
        // Each regex compiled alone when it was read; together they can still exceed a limit.
        const Rule &r = rules_[ids[err->expression < 0 ? 0 : err->expression]];
        const std::string why = err->message;
        hs_free_compile_error(err);
        throw RuleError(fmt::format("{}:{}: rule '{}': regex: {}", r.file, r.line, r.id, why));
    }
}

std::vector<std::string> Ruleset::route_topics() const {
    std::set<std::string> topics;
    for (const Rule &r : rules_) {
        if (r.action == Action::kRoute) topics.insert(topic_of(r));
    }
    return {topics.begin(), topics.end()};
}

std::string Ruleset::summary() const {
    size_t regexes = 0;
    for (const Rule &r : rules_) regexes += !r.regex.empty();
    return fmt::format("{} rule(s) ({} regex, {} literal(s), {} prefix(es)), {} indicator(s)",
                       rules_.size(), regexes, tables_.literal_count, prefix_count_, iocs_.size());
}

}  // namespace tapsift::sift
