// Sifting rules: every predicate and action, through the same stages as the data path
// (syslog_parse ► prefilter kernel ► host Sifter), and the rule-load errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <fstream>

#include "sift/rule_loader.hpp"
#include "sift/ruleset.hpp"
#include "sift_harness.hpp"
#include "wire/descriptor.hpp"

namespace tapsift {
namespace {

using testing::FlowSpec;
using testing::SiftHarness;

constexpr uint8_t kForward = static_cast<uint8_t>(wire::Verdict::kForward);
constexpr uint8_t kFiltered = static_cast<uint8_t>(wire::Verdict::kFiltered);
constexpr uint8_t kUndecided = static_cast<uint8_t>(wire::Verdict::kUndecided);

// <38> = auth.info, <15> = user.debug, <131> = local0.err
const std::string kSshFail =
    "<38>Nov  1 00:00:00 web1 sshd[812]: Failed password for root from 203.0.113.5 port 4711";
const std::string kCronDebug = "<15>Nov  1 00:00:00 web1 CRON[99]: (root) CMD (run-parts)";
const std::string k5424 = "<131>1 2026-11-01T00:00:00Z fw2 firewalld 77 DROP - packet dropped";
const std::string kCef =
    "<134>Nov  1 00:00:00 lb1 ASM: CEF:0|F5|ASM|14.1.2|200002273|SQL-INJ exec()|5|src=198.51.100.7 "
    "act=blocked dst=10.50.72.35";

std::string with_rules(const std::string &rules, const std::string &extra = "") {
    return "sift:\n" + extra + "  rules:\n" + rules;
}

TEST(SiftRules, SyslogHeaderPredicatesAreDecidedInTheKernel) {
    SiftHarness h(with_rules(R"R(
    - {id: by-facility, match: {facility: [local0]}, action: drop}
    - {id: by-severity, match: {severity: debug}, action: drop}
    - {id: by-host, match: {hostname: [db9, web1], app_name: sshd}, action: keep}
    - {id: by-msgid, match: {msgid: NOPE}, action: drop}
)R"));
    auto o = h.syslog(k5424);
    EXPECT_EQ(o.kernel_verdict, kFiltered);
    EXPECT_EQ(o.rule, "by-facility");
    o = h.syslog(kCronDebug);
    EXPECT_EQ(o.kernel_verdict, kFiltered);
    EXPECT_EQ(o.rule, "by-severity");
    o = h.syslog(kSshFail);
    EXPECT_EQ(o.kernel_verdict, kForward);
    EXPECT_FALSE(o.drop);
    EXPECT_EQ(o.rule, "by-host");
    o = h.syslog("<13>Nov  1 00:00:00 other app: hello");
    EXPECT_EQ(o.kernel_verdict, kForward);
    EXPECT_EQ(o.rule, "");  // default keep
    EXPECT_FALSE(o.drop);
}

TEST(SiftRules, MsgidAndContainsLiterals) {
    SiftHarness h(with_rules(R"R(
    - {id: msgid, match: {msgid: DROP}, action: drop}
    - {id: literal, match: {contains: ["zzz", "Failed password"]}, action: tag, tags: [auth-fail]}
    - {id: literal-keep, match: {contains: "(root)"}, action: keep}
)R"));
    EXPECT_EQ(h.syslog(k5424).rule, "msgid");
    auto o = h.syslog(kSshFail);
    EXPECT_EQ(o.tags, std::vector<std::string>{"auth-fail"});
    EXPECT_EQ(o.rule, "");
    o = h.syslog(kCronDebug);
    EXPECT_EQ(o.rule, "literal-keep");
    EXPECT_TRUE(o.tags.empty());
    // A literal at the very end of the message, and one split across the 64-byte beat boundary.
    const std::string tail = "<13>Nov  1 00:00:00 h a: " + std::string(40, 'x') + "(root)";
    EXPECT_EQ(h.syslog(tail).rule, "literal-keep");
}

TEST(SiftRules, RegexRulesAreLeftToTheHostStage) {
    SiftHarness h(with_rules(R"R(
    - {id: cheap-drop, match: {severity: debug}, action: drop}
    - {id: brute-force, match: {regex: 'Failed password for (root|admin) from'}, action: route, topic: alerts}
    - {id: other-regex, match: {regex: 'never-matches-\d{9}'}, action: drop}
)R"));
    auto o = h.syslog(kCronDebug);  // decided by the kernel before any regex rule
    EXPECT_EQ(o.kernel_verdict, kFiltered);
    o = h.syslog(kSshFail);
    EXPECT_EQ(o.kernel_verdict, kUndecided);
    EXPECT_EQ(o.kernel_rule, "brute-force");
    EXPECT_EQ(o.rule, "brute-force");
    EXPECT_EQ(o.topic, "tapsift.alerts");
    o = h.syslog("<13>Nov  1 00:00:00 h app: nothing to see");
    EXPECT_EQ(o.kernel_verdict, kUndecided);
    EXPECT_FALSE(o.drop);
    EXPECT_EQ(o.rule, "");
}

TEST(SiftRules, CefAndLeefFieldsAreMatchedOnTheHost) {
    SiftHarness h(with_rules(R"R(
    - {id: f5-blocked, match: {cef: {deviceVendor: F5, act: blocked}}, action: route, topic: waf}
    - {id: leef, match: {leef: {vendor: IBM}}, action: drop}
)R"));
    auto o = h.syslog(kCef);
    EXPECT_EQ(o.kernel_verdict, kUndecided);
    EXPECT_EQ(o.rule, "f5-blocked");
    EXPECT_EQ(o.topic, "waf");
    o = h.syslog(kSshFail);  // not CEF: the field is absent
    EXPECT_EQ(o.rule, "");
    o = h.syslog(
        "<13>Nov  1 00:00:00 h app: LEEF:1.0|IBM|QRadar|7.0|42|src=10.0.0.1\tdst=10.0.0.2");
    EXPECT_EQ(o.rule, "leef");
    EXPECT_TRUE(o.drop);
}

TEST(SiftRules, SourceAndDestinationCidrs) {
    SiftHarness h(with_rules(R"R(
    - {id: v4-net, match: {kind: syslog, source: [10.0.0.0/8, 192.0.2.128/25]}, action: drop}
    - {id: v6-net, match: {source: "2001:db8::/32"}, action: drop}
    - {id: collector, match: {kind: syslog, destination: 192.0.2.254}, action: tag, tags: [to-collector]}
)R"));
    EXPECT_TRUE(h.syslog(kSshFail, "10.9.8.7").drop);
    EXPECT_TRUE(h.syslog(kSshFail, "192.0.2.200").drop);
    EXPECT_TRUE(h.syslog(kSshFail, "2001:db8:1::5").drop);
    const auto o = h.syslog(kSshFail, "192.0.2.1");
    EXPECT_FALSE(o.drop);
    EXPECT_EQ(o.tags, std::vector<std::string>{"to-collector"});
}

// An IPv6 CIDR that holds IPv4-mapped addresses matches IPv4 senders; the candidate index must
// not file it under its own first bytes (a review found it skipped).
TEST(SiftRules, AnIpv6CidrHoldingIpv4MappedAddressesMatchesIpv4) {
    SiftHarness h(with_rules(R"R(
    - {id: tag-a, match: {contains: [aaaa]}, action: tag, tags: [x]}
    - {id: v6all, match: {source: "::/64"}, action: drop}
)R"));
    const auto o = h.syslog("<13>Jan  1 00:00:00 host app: hello aaaa", "10.1.2.3");
    EXPECT_EQ(o.rule, "v6all");
    EXPECT_TRUE(o.drop);
}

TEST(SiftRules, FlowPredicates) {
    SiftHarness h(with_rules(R"R(
    - {id: dns, match: {protocol: udp, dst_port: 53}, action: sample, sample: 3}
    - {id: tiny, match: {kind: flow, bytes_max: 100}, action: drop}
    - {id: big, match: {bytes_min: 1000000, packets_min: 100}, action: route, topic: alerts}
    - {id: eph, match: {src_port: "1024-65535", dst_port: [22, 3389], protocol: tcp}, action: keep}
    - {id: exporter, match: {exporter: 192.0.2.9/32}, action: drop}
    - {id: dst-net, match: {kind: flow, destination: 203.0.113.0/24, protocol: [6, icmp]}, action: tag, tags: [dmz]}
)R"));
    FlowSpec dns;
    dns.protocol = 17;
    dns.dst_port = 53;
    // sample 1 in 3: the first of every three is kept.
    std::vector<bool> kept;
    for (int i = 0; i < 6; ++i) kept.push_back(!h.flow(dns).drop);
    EXPECT_EQ(kept, (std::vector<bool>{true, false, false, true, false, false}));
    FlowSpec tiny;
    tiny.bytes = 60;
    EXPECT_EQ(h.flow(tiny).rule, "tiny");
    EXPECT_EQ(h.flow(tiny).kernel_verdict, kFiltered);
    FlowSpec big;
    big.bytes = 5000000;
    big.packets = 4000;
    EXPECT_EQ(h.flow(big).topic, "tapsift.alerts");
    big.packets = 99;
    EXPECT_NE(h.flow(big).rule, "big");
    FlowSpec ssh;
    ssh.dst_port = 22;
    EXPECT_EQ(h.flow(ssh).rule, "eph");
    ssh.src_port = 1000;
    EXPECT_NE(h.flow(ssh).rule, "eph");
    FlowSpec other;
    other.exporter = "192.0.2.9";
    EXPECT_EQ(h.flow(other).rule, "exporter");
    other.exporter = "192.0.2.1";
    const auto o = h.flow(other);
    EXPECT_EQ(o.tags, std::vector<std::string>{"dmz"});
    EXPECT_FALSE(o.drop);
}

TEST(SiftRules, TagRulesAccumulateAndAFourthGoesToTheHost) {
    SiftHarness h(with_rules(R"R(
    - {id: t1, match: {app_name: sshd}, action: tag, tags: [a]}
    - {id: t2, match: {contains: root}, action: tag, tags: [b, c]}
    - {id: t3, match: {severity: info}, action: tag, tags: [d]}
    - {id: t4, match: {hostname: web1}, action: tag, tags: [e]}
    - {id: keep, match: {facility: auth}, action: keep, tags: [kept]}
)R"));
    const auto o = h.syslog(kSshFail);
    EXPECT_EQ(o.kernel_verdict, kUndecided);
    EXPECT_EQ(o.kernel_rule, "t4");
    EXPECT_EQ(o.rule, "keep");
    EXPECT_EQ(o.tags, (std::vector<std::string>{"a", "b", "c", "d", "e", "kept"}));
    const auto counters = h.sifter().rule_counters();
    EXPECT_EQ(counters.at("t4").tagged, 1u);
    EXPECT_EQ(counters.at("keep").kept, 1u);
}

TEST(SiftRules, DefaultDropAndPerRuleCounters) {
    SiftHarness h(with_rules(R"R(
    - {id: keep-auth, match: {facility: auth}, action: keep}
    - {id: route-fw, match: {hostname: fw2}, action: route, topic: firewall}
)R",
                             "  default_action: drop\n"));
    EXPECT_FALSE(h.syslog(kSshFail).drop);
    EXPECT_FALSE(h.syslog(kSshFail).drop);
    EXPECT_TRUE(h.syslog(kCronDebug).drop);
    EXPECT_EQ(h.syslog(kCronDebug).kernel_verdict, kFiltered);
    EXPECT_EQ(h.syslog(k5424).topic, "firewall");
    const auto c = h.sifter().rule_counters();
    EXPECT_EQ(c.at("keep-auth").matched, 2u);
    EXPECT_EQ(c.at("keep-auth").kept, 2u);
    EXPECT_EQ(c.at("route-fw").routed, 1u);
    EXPECT_EQ(c.at("route-fw").dropped, 0u);
}

class SiftThreatIntel : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = ::testing::TempDir() + "sift_ioc";
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ + "/block.txt") << "# test list\n203.0.113.5\n198.51.100.0/24\n"
                                              "2001:db8:bad::/48\n";
    }
    std::string config(const std::string &rules) {
        return "sift:\n  ioc_files: [" + dir_ + "/block.txt]\n  rules:\n" + rules;
    }
    std::string dir_;
};

TEST_F(SiftThreatIntel, MessageAndSourceHitsEnrichAndRoute) {
    SiftHarness h(config(R"R(
    - {id: ti, match: {threat_intel: true}, action: route, topic: alerts}
)R"));
    auto o = h.syslog(kSshFail);  // 203.0.113.5 written in the message
    EXPECT_EQ(o.rule, "ti");
    EXPECT_EQ(o.topic, "tapsift.alerts");
    EXPECT_EQ(o.threats, std::vector<std::string>{"203.0.113.5 message 203.0.113.5"});
    o = h.syslog("<13>Nov  1 00:00:00 h app: clean", "198.51.100.77");
    EXPECT_EQ(o.threats, std::vector<std::string>{"198.51.100.77 source.ip 198.51.100.0/24"});
    o = h.syslog("<13>Nov  1 00:00:00 h app: from 2001:db8:bad:1::2 and 10.0.0.1");
    EXPECT_EQ(o.threats, std::vector<std::string>{"2001:db8:bad:1::2 message 2001:db8:bad::/48"});
    o = h.syslog("<13>Nov  1 00:00:00 h app: clean 192.0.2.44");
    EXPECT_TRUE(o.threats.empty());
    EXPECT_EQ(o.rule, "");
}

TEST_F(SiftThreatIntel, FlowHitsByPlaceAndEnrichmentWithoutARule) {
    SiftHarness h(config(R"R(
    - {id: ti-dst, match: {threat_intel: [destination]}, action: route, topic: alerts}
)R"));
    FlowSpec f;
    f.src = "192.0.2.77";
    f.dst = "203.0.113.5";
    auto o = h.flow(f);
    EXPECT_EQ(o.rule, "ti-dst");
    EXPECT_EQ(o.threats, std::vector<std::string>{"203.0.113.5 destination.ip 203.0.113.5"});
    f.dst = "192.0.2.50";
    f.src = "198.51.100.3";  // a source hit: enriched, but this rule looks at destinations only
    o = h.flow(f);
    EXPECT_EQ(o.rule, "");
    EXPECT_EQ(o.threats, std::vector<std::string>{"198.51.100.3 source.ip 198.51.100.0/24"});
}

// The candidate index must give the answer of the plain ordered list: random rulesets mixing
// every anchor kind (and rules with none), random records, compared with the linear reference.
TEST(SiftRules, CandidateIndexAgreesWithTheOrderedList) {
    std::mt19937 rng(7);
    const auto pick = [&](const std::vector<std::string> &v) { return v[rng() % v.size()]; };
    const std::vector<std::string> hosts = {"web1", "web2", "db1", "fw1", "fw2"};
    const std::vector<std::string> apps = {"sshd", "CRON", "sudo", "kernel", "nginx"};
    const std::vector<std::string> words = {"Failed", "password", "root",  "session", "opened",
                                            "denied", "GET",      "error", "timeout", "ok"};
    const std::vector<std::string> nets = {
        "10.0.0.0/8", "10.1.0.0/16",   "192.0.2.0/24", "198.51.100.0/25",
        "0.0.0.0/0",  "2001:db8::/32", "::/64"};
    const std::vector<std::string> severities = {"err", "warning", "notice", "info", "debug"};
    const std::vector<std::string> actions = {"drop", "keep", "tag", "tag", "route"};
    std::string rules;
    for (int i = 0; i < 300; ++i) {
        std::string match;
        const int shape = static_cast<int>(rng() % 7);
        if (shape == 0) match = "hostname: [" + pick(hosts) + ", " + pick(hosts) + "]";
        if (shape == 1) match = "app_name: " + pick(apps);
        if (shape == 2) match = "contains: [\"" + pick(words) + "\", \"" + pick(words) + "\"]";
        if (shape == 3) match = "source: [" + pick(nets) + ", " + pick(nets) + "]";
        if (shape == 4) match = "severity: [" + pick(severities) + ", " + pick(severities) + "]";
        if (shape == 5) match = "kind: syslog, regex: '" + pick(words) + ".*" + pick(words) + "'";
        if (shape == 6) match = "hostname: " + pick(hosts) + ", contains: " + pick(words);
        if (rng() % 3 == 0) match += ", severity: [" + pick(severities) + "]";
        const std::string action = pick(actions);
        rules += "    - {id: r" + std::to_string(i) + ", match: {" + match +
                 "}, action: " + action +
                 (action == "tag" ? ", tags: [t" + std::to_string(i) + "]" : "") +
                 (action == "route" ? ", topic: x" : "") + "}\n";
    }
    SiftHarness indexed(with_rules(rules));
    SiftHarness linear(with_rules(rules));
    const std::vector<std::string> pri = {"<11>", "<12>", "<13>", "<14>", "<15>", "<38>"};
    const std::vector<std::string> sources = {"10.1.2.3",       "10.9.9.9",    "192.0.2.7",
                                              "198.51.100.200", "203.0.113.1", "2001:db8::5"};
    for (int k = 0; k < 3000; ++k) {
        std::string msg = pick(pri) + "Nov  1 00:00:00 " + pick(hosts) + " " + pick(apps) + ": ";
        for (int w = 0; w < 6; ++w) msg += pick(words) + " ";
        const std::string source = pick(sources);
        const auto got = indexed.syslog(msg, source);
        const auto want = linear.syslog(msg, source, true);
        ASSERT_EQ(got.rule, want.rule) << msg << " from " << source;
        ASSERT_EQ(got.tags, want.tags) << msg << " from " << source;
    }
}

TEST(SiftRules, CandidateIndexAgreesWithTheOrderedListForFlows) {
    std::mt19937 rng(11);
    const auto pick = [&](const std::vector<std::string> &v) { return v[rng() % v.size()]; };
    const std::vector<std::string> nets = {"10.0.0.0/8",    "10.1.0.0/16", "10.1.2.0/24",
                                           "192.0.2.0/24",  "0.0.0.0/0",   "198.50.0.0/15",
                                           "2001:db8::/32", "203.0.113.5", "::/64"};
    const std::vector<std::string> ports = {"53",         "443",        "22",
                                            "1024-65535", "[80, 8080]", "0-1023"};
    const std::vector<std::string> protos = {"tcp", "udp", "icmp", "[tcp, udp]"};
    const std::vector<std::string> actions = {"drop", "keep", "tag", "sample", "route"};
    std::string rules;
    for (int i = 0; i < 300; ++i) {
        std::string match = "kind: flow";
        const int shape = static_cast<int>(rng() % 6);
        if (shape == 0) match += ", source: " + pick(nets);
        if (shape == 1) match += ", destination: [" + pick(nets) + ", " + pick(nets) + "]";
        if (shape == 2) match += ", dst_port: " + pick(ports) + ", protocol: " + pick(protos);
        if (shape == 3) match += ", src_port: " + pick(ports) + ", destination: " + pick(nets);
        if (shape == 4)
            match += ", exporter: " + pick(nets) + ", bytes_min: " + std::to_string(rng() % 5000);
        if (shape == 5) match += ", packets_max: " + std::to_string(rng() % 50);
        const std::string action = pick(actions);
        rules += "    - {id: f" + std::to_string(i) + ", match: {" + match +
                 "}, action: " + action +
                 (action == "tag" ? ", tags: [t" + std::to_string(i) + "]" : "") +
                 (action == "sample" ? ", sample: 1" : "") +
                 (action == "route" ? ", topic: x" : "") + "}\n";
    }
    SiftHarness indexed(with_rules(rules));
    SiftHarness linear(with_rules(rules));
    const std::vector<std::string> addrs = {"10.1.2.3",       "10.9.9.9",   "192.0.2.7",
                                            "198.51.100.200", "198.50.1.1", "203.0.113.5",
                                            "2001:db8::5",    "8.8.8.8"};
    const std::vector<uint16_t> port_values = {53, 443, 22, 80, 8080, 40000, 1023, 3389};
    for (int k = 0; k < 3000; ++k) {
        FlowSpec f;
        f.src = pick(addrs);
        f.dst = pick(addrs);
        f.exporter = pick(addrs);
        f.src_port = port_values[rng() % port_values.size()];
        f.dst_port = port_values[rng() % port_values.size()];
        f.protocol = std::vector<uint8_t>{1, 6, 17}[rng() % 3];
        f.bytes = rng() % 6000;
        f.packets = rng() % 100;
        const auto got = indexed.flow(f);
        const auto want = linear.flow(f, true);
        ASSERT_EQ(got.rule, want.rule) << f.src << " > " << f.dst << ":" << f.dst_port;
        ASSERT_EQ(got.tags, want.tags) << f.src << " > " << f.dst << ":" << f.dst_port;
    }
}

// Rule-load errors: each names the file, the line and the rule.
std::string load_error(const std::string &rules) {
    try {
        sift::load_rules_text(rules, "rules.yaml");
    } catch (const sift::RuleError &e) {
        return e.what();
    }
    return "";
}

TEST(SiftRuleErrors, NameFileLineAndRule) {
    EXPECT_EQ(
        load_error("- id: a\n  action: drop\n- id: b\n  match: {severity: debg}\n  action: drop\n"),
        "rules.yaml:4: rule 'b': match.severity: 'debg' is not a severity");
    EXPECT_EQ(load_error("- id: c\n  match:\n    sources: 10.0.0.0/8\n  action: drop\n"),
              "rules.yaml:3: rule 'c': match.sources: unknown field");
    EXPECT_EQ(
        load_error("- id: d\n  match: {source: [10.0.0.0/8, 10.0.0.300/32]}\n  action: drop\n"),
        "rules.yaml:2: rule 'd': match.source[1]: '10.0.0.300/32' is not an IP address or CIDR");
    EXPECT_EQ(load_error("- id: e\n  match: {source: 10.1.2.3/8}\n  action: drop\n"),
              "rules.yaml:2: rule 'e': match.source: '10.1.2.3/8' has host bits set");
    EXPECT_NE(load_error("- id: f\n  match: {regex: 'a(b'}\n  action: drop\n")
                  .find("rules.yaml:2: rule 'f': match.regex: 'a(b' is not a valid regex"),
              std::string::npos);
    EXPECT_EQ(load_error("- id: g\n  match: {kind: flow, severity: err}\n  action: drop\n"),
              "rules.yaml:2: rule 'g': match.severity: only syslog records have this field");
    EXPECT_EQ(load_error("- id: h\n  match: {app_name: x, dst_port: 53}\n  action: drop\n"),
              "rules.yaml:2: rule 'h': match.dst_port: mixes syslog and flow fields");
    EXPECT_EQ(
        load_error("- id: i\n  match: {contains: x}\n  action: drop\n"),
        "rules.yaml:2: rule 'i': match.contains: a literal needs at least 2 bytes (use regex)");
    EXPECT_EQ(load_error("- id: j\n  action: sample\n"),
              "rules.yaml:2: rule 'j': action: sample needs 'sample: N' (keep 1 in N)");
    EXPECT_EQ(load_error("- id: k\n  action: explode\n"),
              "rules.yaml:2: rule 'k': action: 'explode' is not one of drop|keep|sample|tag|route");
    EXPECT_EQ(load_error("- match: {severity: err}\n  action: drop\n"),
              "rules.yaml:1: rule '?': rules[0]: a rule needs an 'id'");
    EXPECT_EQ(load_error("- id: l\n  match: {dst_port: 70000}\n  action: drop\n"),
              "rules.yaml:2: rule 'l': match.dst_port: 70000 is more than 65535");
    EXPECT_EQ(load_error("- id: m\n  action: route\n"),
              "rules.yaml:2: rule 'm': action: route needs 'topic: NAME' (or 'alerts' for "
              "sift.alerts_topic)");
}

TEST(SiftRuleErrors, DuplicateIdsAndKernelLimits) {
    const std::string dir = ::testing::TempDir() + "sift_rules";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/more.yaml") << "rules:\n  - {id: a, action: keep}\n";
    const std::string dup =
        "sift:\n  rule_files: [" + dir + "/more.yaml]\n  rules:\n    - {id: a, action: drop}\n";
    try {
        sift::load_rules(config::load_config_string(dup, "main.yaml"));
        FAIL() << "a duplicate id loaded";
    } catch (const sift::RuleError &e) {
        EXPECT_EQ(std::string(e.what()),
                  dir + "/more.yaml:2: rule 'a': the id is already used at main.yaml:4");
    }
    const std::string limited =
        "sift:\n  kernel: {max_rules: 1}\n  rules:\n    - {id: a, action: drop}\n"
        "    - {id: b, action: drop}\n";
    try {
        sift::Ruleset::load(config::load_config_string(limited, "main.yaml"));
        FAIL() << "more rules than sift.kernel.max_rules loaded";
    } catch (const sift::RuleError &e) {
        EXPECT_EQ(std::string(e.what()),
                  "main.yaml:5: rule 'b': 2 rules exceed sift.kernel.max_rules (1); raise it in "
                  "the config");
    }
}

}  // namespace
}  // namespace tapsift
