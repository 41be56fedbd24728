// YAML ► Rule. The same shape as the config loader: one validated reader per key.
#include "sift/rule_loader.hpp"

#include <hs/hs.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "event/syslog_event.hpp"
#include "sift/ioc_set.hpp"
#include "wire/prefilter_tables.hpp"

namespace tapsift::sift {
namespace {

struct Where {
    const std::string &source;
    const std::string &rule;  // the id, once known
    std::string key;
    YAML::Node node;  // a handle: copies share the node

    [[noreturn]] void fail(const std::string &what) const {
        throw RuleError(
            fmt::format("{}:{}: rule '{}': {}: {}", source, node.Mark().line + 1, rule, key, what));
    }
    Where at(const std::string &sub, const YAML::Node &n) const {
        return Where{source, rule, key.empty() ? sub : key + "." + sub, n};
    }
};

std::string scalar(const Where &w) {
    if (!w.node.IsScalar()) w.fail("expected a single value");
    return w.node.Scalar();
}

uint64_t parse_unsigned(const Where &w, const std::string &s, uint64_t max) {
    uint64_t v = 0;
    size_t used = 0;
    try {
        v = std::stoull(s, &used, 10);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used == 0 || used != s.size() || s[0] == '-')
        w.fail(fmt::format("'{}' is not a number", s));
    if (v > max) w.fail(fmt::format("{} is more than {}", v, max));
    return v;
}

uint64_t unsigned_value(const Where &w, uint64_t max) {
    return parse_unsigned(w, scalar(w), max);
}

// A value or a list of values.
template <typename F>
void each(const Where &w, F &&f) {
    if (w.node.IsSequence()) {
        if (w.node.size() == 0) w.fail("an empty list matches nothing");
        if (w.node.size() > wire::kMaxRefsPerList)
            w.fail(fmt::format("more than {} values", wire::kMaxRefsPerList));
        for (size_t i = 0; i < w.node.size(); ++i) {
            const YAML::Node item = w.node[i];
            f(Where{w.source, w.rule, fmt::format("{}[{}]", w.key, i), item});
        }
    } else {
        f(w);
    }
}

std::vector<std::string> strings(const Where &w, bool literal) {
    std::vector<std::string> out;
    each(w, [&](const Where &i) {
        std::string s = scalar(i);
        if (s.empty()) i.fail("empty string");
        if (s.size() > wire::kMaxPrefilterLiteralBytes)
            i.fail(fmt::format("longer than {} bytes", wire::kMaxPrefilterLiteralBytes));
        if (literal && s.size() < 2) i.fail("a literal needs at least 2 bytes (use regex)");
        out.push_back(std::move(s));
    });
    return out;
}

int name_or_code(const Where &w, const char *(*name_of)(int), int count, const char *what) {
    const std::string s = scalar(w);
    for (int i = 0; i < count; ++i) {
        if (s == name_of(i) || s == std::to_string(i)) return i;
    }
    w.fail(fmt::format("'{}' is not a {}", s, what));
}

std::vector<Cidr> cidrs(const Where &w) {
    std::vector<Cidr> out;
    each(w, [&](const Where &i) {
        const std::string text = scalar(i);
        const size_t slash = text.find('/');
        std::array<uint8_t, 16> addr{};
        if (!parse_address(text.substr(0, slash), addr))
            i.fail(fmt::format("'{}' is not an IP address or CIDR", text));
        const bool v4 = text.find(':') == std::string::npos;
        uint32_t len = v4 ? 32 : 128;
        if (slash != std::string::npos) {
            len = static_cast<uint32_t>(parse_unsigned(i, text.substr(slash + 1), len));
        }
        const uint32_t bits = v4 ? 96 + len : len;
        for (uint32_t b = bits; b < 128; ++b) {
            if (addr[b / 8] & (0x80 >> (b % 8)))
                i.fail(fmt::format("'{}' has host bits set", text));
        }
        out.push_back(Cidr{addr, static_cast<uint8_t>(bits), text});
    });
    return out;
}

std::vector<Range> ranges(const Where &w, uint32_t max) {
    std::vector<Range> out;
    each(w, [&](const Where &i) {
        const std::string s = scalar(i);
        const size_t dash = s.find('-');
        if (dash == std::string::npos) {
            const uint32_t v = static_cast<uint32_t>(unsigned_value(i, max));
            out.push_back({v, v});
            return;
        }
        const Range r{static_cast<uint32_t>(parse_unsigned(i, s.substr(0, dash), max)),
                      static_cast<uint32_t>(parse_unsigned(i, s.substr(dash + 1), max))};
        if (r.lo > r.hi) i.fail(fmt::format("'{}': the range is empty", s));
        out.push_back(r);
    });
    return out;
}

std::vector<Range> protocols(const Where &w) {
    static const std::map<std::string, uint32_t> kNames = {
        {"icmp", 1}, {"tcp", 6},     {"udp", 17},  {"gre", 47},
        {"esp", 50}, {"icmpv6", 58}, {"sctp", 132}};
    std::vector<Range> out;
    each(w, [&](const Where &i) {
        const auto named = kNames.find(scalar(i));
        const uint32_t p =
            named != kNames.end() ? named->second : static_cast<uint32_t>(unsigned_value(i, 255));
        out.push_back({p, p});
    });
    return out;
}

void check_regex(const Where &w, const std::string &re) {
    hs_database_t *db = nullptr;
    hs_compile_error_t *err = nullptr;
    if (hs_compile(re.c_str(), HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, nullptr, &db, &err) !=
        HS_SUCCESS) {
        const std::string why = err ? err->message : "unknown error";
        hs_free_compile_error(err);
        w.fail(fmt::format("'{}' is not a valid regex: {}", re, why));
    }
    hs_free_database(db);
}

uint8_t threat_places(const Where &w) {
    static const std::map<std::string, uint8_t> kPlaces = {
        {"source", wire::kIocSource},
        {"destination", wire::kIocDestination},
        {"message", wire::kIocMessage},
        {"any", wire::kIocSource | wire::kIocDestination | wire::kIocMessage}};
    uint8_t places = 0;
    if (w.node.IsScalar() && (w.node.Scalar() == "true" || w.node.Scalar() == "false")) {
        return w.node.Scalar() == "true" ? kPlaces.at("any") : 0;
    }
    each(w, [&](const Where &i) {
        const auto p = kPlaces.find(scalar(i));
        if (p == kPlaces.end())
            i.fail(fmt::format("'{}' is not one of true|source|destination|message|any",
                               i.node.Scalar()));
        places |= p->second;
    });
    return places;
}

constexpr uint8_t kAnyKind = wire::kKindSyslog | wire::kKindFlow;

// Predicates that only one kind has: a rule using them is of that kind.
void require_kind(const Where &w, Rule &r, uint8_t kind, uint8_t &implied) {
    if (r.kinds && !(r.kinds & kind))
        w.fail(fmt::format("only {} records have this field",
                           kind == wire::kKindSyslog ? "syslog" : "flow"));
    if (implied && implied != kind) w.fail("mixes syslog and flow fields");
    implied = kind;
}

void read_match(const Where &m, Rule &r) {
    if (!m.node.IsMap()) m.fail("expected a map of fields");
    uint8_t implied = 0;
    if (m.node["kind"]) {
        const Where w = m.at("kind", m.node["kind"]);
        const std::string k = scalar(w);
        if (k == "syslog")
            r.kinds = wire::kKindSyslog;
        else if (k == "flow")
            r.kinds = wire::kKindFlow;
        else
            w.fail(fmt::format("'{}' is not one of syslog|flow", k));
    }
    for (const auto &kv : m.node) {
        const std::string key = kv.first.Scalar();
        const Where w = m.at(key, kv.second);
        const auto syslog_only = [&] { require_kind(w, r, wire::kKindSyslog, implied); };
        const auto flow_only = [&] { require_kind(w, r, wire::kKindFlow, implied); };
        if (key == "kind") {
        } else if (key == "facility") {
            syslog_only();
            r.facility_mask = 0;
            each(w, [&](const Where &i) {
                r.facility_mask |= 1u << name_or_code(i, event::facility_name, 24, "facility");
            });
        } else if (key == "severity") {
            syslog_only();
            r.severity_mask = 0;
            each(w, [&](const Where &i) {
                r.severity_mask |= 1u << name_or_code(i, event::severity_name, 8, "severity");
            });
        } else if (key == "hostname") {
            syslog_only();
            r.hostnames = strings(w, false);
        } else if (key == "app_name") {
            syslog_only();
            r.appnames = strings(w, false);
        } else if (key == "msgid") {
            syslog_only();
            r.msgids = strings(w, false);
        } else if (key == "contains") {
            syslog_only();
            r.contains = strings(w, true);
        } else if (key == "regex") {
            syslog_only();
            r.regex = scalar(w);
            check_regex(w, r.regex);
        } else if (key == "cef" || key == "leef") {
            syslog_only();
            if (!w.node.IsMap() || w.node.size() == 0) w.fail("expected a map of field: value");
            for (const auto &f : w.node) {
                r.sec_fields.emplace_back(f.first.Scalar(),
                                          scalar(w.at(f.first.Scalar(), f.second)));
            }
        } else if (key == "source") {
            r.sources = cidrs(w);
        } else if (key == "destination") {
            r.destinations = cidrs(w);
        } else if (key == "exporter") {
            flow_only();
            r.exporters = cidrs(w);
        } else if (key == "src_port") {
            flow_only();
            r.src_ports = ranges(w, 65535);
        } else if (key == "dst_port") {
            flow_only();
            r.dst_ports = ranges(w, 65535);
        } else if (key == "protocol") {
            flow_only();
            r.protocols = protocols(w);
        } else if (key == "bytes_min" || key == "bytes_max" || key == "packets_min" ||
                   key == "packets_max") {
            flow_only();
            const uint64_t v = unsigned_value(w, UINT64_MAX);
            (key == "bytes_min"     ? r.bytes_min
             : key == "bytes_max"   ? r.bytes_max
             : key == "packets_min" ? r.packets_min
                                    : r.packets_max) = v;
        } else if (key == "threat_intel") {
            r.threat_intel = threat_places(w);
        } else {
            Where{m.source, m.rule, m.key + "." + key, kv.first}.fail("unknown field");
        }
    }
    if (!r.kinds) r.kinds = implied ? implied : kAnyKind;
    if ((r.threat_intel & wire::kIocMessage) && !(r.kinds & wire::kKindSyslog))
        m.fail("threat_intel: message: flows have no message");
    if (r.kinds == wire::kKindFlow) r.threat_intel &= ~wire::kIocMessage;
}

Rule read_rule(const std::string &source, const YAML::Node &node, const std::string &key) {
    static const std::string kUnnamed = "?";
    const Where top{source, kUnnamed, key, node};
    if (!node.IsMap()) top.fail("a rule is a map with id, match and action");
    Rule r;
    r.file = source;
    r.line = node.Mark().line + 1;
    if (!node["id"]) top.fail("a rule needs an 'id'");
    r.id = scalar(top.at("id", node["id"]));
    const Where w{source, r.id, "", node};
    static const std::set<std::string> kKeys = {"id",   "match", "action",     "sample",
                                                "tags", "topic", "description"};
    for (const auto &kv : node) {
        if (!kKeys.count(kv.first.Scalar())) w.at(kv.first.Scalar(), kv.first).fail("unknown key");
    }
    if (node["match"])
        read_match(w.at("match", node["match"]), r);
    else
        r.kinds = kAnyKind;
    if (!node["action"]) w.fail("a rule needs an 'action' (drop|keep|sample|tag|route)");
    const Where a = w.at("action", node["action"]);
    const std::string action = scalar(a);
    static const std::map<std::string, Action> kActions = {{"drop", Action::kDrop},
                                                           {"keep", Action::kKeep},
                                                           {"sample", Action::kSample},
                                                           {"tag", Action::kTag},
                                                           {"route", Action::kRoute}};
    const auto found = kActions.find(action);
    if (found == kActions.end())
        a.fail(fmt::format("'{}' is not one of drop|keep|sample|tag|route", action));
    r.action = found->second;
    if (node["sample"]) {
        if (r.action != Action::kSample)
            w.at("sample", node["sample"]).fail("only for action: sample");
        r.sample_one_in =
            static_cast<uint32_t>(unsigned_value(w.at("sample", node["sample"]), UINT32_MAX));
        if (r.sample_one_in == 0) w.at("sample", node["sample"]).fail("1 in 0 is not a rate");
    } else if (r.action == Action::kSample) {
        a.fail("sample needs 'sample: N' (keep 1 in N)");
    }
    if (node["tags"]) {
        r.tags = strings(w.at("tags", node["tags"]), false);
    }
    if (r.action == Action::kTag && r.tags.empty()) a.fail("tag needs 'tags: [...]'");
    if (node["topic"]) {
        if (r.action != Action::kRoute) w.at("topic", node["topic"]).fail("only for action: route");
        r.topic = scalar(w.at("topic", node["topic"]));
        if (r.topic.empty()) w.at("topic", node["topic"]).fail("empty topic");
    } else if (r.action == Action::kRoute) {
        a.fail("route needs 'topic: NAME' (or 'alerts' for sift.alerts_topic)");
    }
    return r;
}

std::vector<Rule> read_rule_list(const YAML::Node &list, const std::string &source,
                                 const std::string &key) {
    if (!list.IsSequence())
        throw RuleError(
            fmt::format("{}:{}: {}: expected a list of rules", source, list.Mark().line + 1, key));
    std::vector<Rule> rules;
    for (size_t i = 0; i < list.size(); ++i) {
        rules.push_back(read_rule(source, list[i], fmt::format("{}[{}]", key, i)));
    }
    return rules;
}

YAML::Node parse(const std::string &yaml, const std::string &source) {
    try {
        return YAML::Load(yaml);
    } catch (const YAML::ParserException &e) {
        throw RuleError(
            fmt::format("{}:{}: YAML syntax error: {}", source, e.mark.line + 1, e.msg));
    }
}

std::string read_file(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw RuleError(path + ": cannot open the rule file");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

const char *action_name(Action a) {
    switch (a) {
        case Action::kDrop:
            return "drop";
        case Action::kKeep:
            return "keep";
        case Action::kSample:
            return "sample";
        case Action::kTag:
            return "tag";
        case Action::kRoute:
            return "route";
    }
    return "?";
}

std::vector<Rule> load_rules_text(const std::string &yaml, const std::string &source) {
    const YAML::Node root = parse(yaml, source);
    if (root.IsMap()) {
        for (const auto &kv : root) {
            if (kv.first.Scalar() != "rules")
                throw RuleError(fmt::format("{}:{}: {}: unknown key (a rule file has 'rules')",
                                            source, kv.first.Mark().line + 1, kv.first.Scalar()));
        }
        return root["rules"] ? read_rule_list(root["rules"], source, "rules") : std::vector<Rule>{};
    }
    if (root.IsNull()) return {};
    return read_rule_list(root, source, "rules");
}

std::vector<Rule> load_rules(const config::Config &cfg) {
    std::vector<Rule> rules;
    if (cfg.sift.has_inline_rules) {
        const YAML::Node root = parse(cfg.sift.config_text, cfg.source);
        rules = read_rule_list(root["sift"]["rules"], cfg.source, "sift.rules");
    }
    for (const std::string &file : cfg.sift.rule_files) {
        for (Rule &r : load_rules_text(read_file(file), file)) rules.push_back(std::move(r));
    }
    std::map<std::string, const Rule *> seen;
    for (const Rule &r : rules) {
        const auto [it, fresh] = seen.emplace(r.id, &r);
        if (!fresh)
            throw RuleError(fmt::format("{}:{}: rule '{}': the id is already used at {}:{}", r.file,
                                        r.line, r.id, it->second->file, it->second->line));
    }
    return rules;
}

}  // namespace tapsift::sift
