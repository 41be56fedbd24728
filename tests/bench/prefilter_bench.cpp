// Sifting on the cpu backend (kernels compiled with -O3), one core.
//   build/tests/bench/prefilter_bench --benchmark_counters_tabular=true
//   scripts/sift-bench runs it and prints a summary (slowdown vs parse only, ns per event).
//
// Syslog: the corpus syslog_parse_bench uses, sent by 8 hosts, in full 256-record ingest batches:
// syslog_parse alone (the baseline), then syslog_parse + prefilter_syslog with 0, 100, 1,000 and
// 10,000 rules, each without and with 1,000,000 indicators (the kernel's filter at the default
// 4 MiB). Flows: prefilter_flows over IPFIX records flow_parse decoded beforehand, with 0 to
// 10,000 flow rules. Host: Sifter::decide_syslog per record the kernel left undecided, with 1 to
// 1,000 regex rules in one Hyperscan database.
//
// Rules are generated as YAML and loaded by the real loader (config::load_config_string,
// sift::Ruleset::load). Besides a threat-intel rule first and four common noise rules last, no
// rule matches this traffic, so the kernel walks the whole list for every record: the worst case
// for a linear walk. The counters say how much matched (matched_frac), how deep the walk went
// (rules_per_rec) and how many literal candidates were compared (probes_per_rec).
#include <benchmark/benchmark.h>

#include <hs/hs.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "flow_harness.hpp"
#include "flow_parse/flow_parse.hpp"
#include "ingest_batch_builder.hpp"
#include "ioc_testing.hpp"
#include "syslog_corpus.hpp"
#include "prefilter/prefilter.hpp"
#include "sift/ioc_set.hpp"
#include "sift/ruleset.hpp"
#include "sift/ruleset_source.hpp"
#include "sift/sifter.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"

using namespace tapsift;

namespace {

using testing::Addr;
using testing::splitmix64;
using testing::v4;

const hls_kernels::beat_t *beats(const uint8_t *p) {
    return reinterpret_cast<const hls_kernels::beat_t *>(p);
}

struct SyslogBatches {
    std::vector<std::unique_ptr<dataplane::IngestBatchBuilder>> batches;
    uint64_t bytes = 0;
    uint64_t records = 0;
};

// 32 full batches (8,192 records, a few MB: more than the caches hold, as on the wire), from the
// demo capture's 8 senders to one collector, so source rules and the indicator filter see real
// IPv4 addresses.
const SyslogBatches &syslog_batches() {
    static const SyslogBatches b = [] {
        const std::vector<std::string> msgs = testing::syslog_corpus_messages(TAPSIFT_TEST_CORPUS);
        static const uint8_t kSenders[8] = {11, 12, 13, 14, 15, 21, 31, 32};
        const Addr collector = v4(0x0a010002);
        SyslogBatches out;
        const auto batch = [] {
            return std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch);
        };
        out.batches.push_back(batch());
        for (size_t i = 0; out.records < 32 * wire::kMaxRecordsPerBatch; ++i) {
            const std::string &m = msgs[i % msgs.size()];
            const Addr src = v4(0x0a010000 | kSenders[i % 8]);
            const dataplane::RecordMeta meta{src.data(),
                                             collector.data(),
                                             514,
                                             514,
                                             wire::RecordKind::kSyslog,
                                             0,
                                             0,
                                             0,
                                             1793491200ULL * 1000000000ULL,
                                             i + 1};
            const auto *p = reinterpret_cast<const uint8_t *>(m.data());
            if (!out.batches.back()->add(meta, p, static_cast<uint32_t>(m.size()))) {
                out.batches.push_back(batch());
                out.batches.back()->add(meta, p, static_cast<uint32_t>(m.size()));
            }
            out.bytes += m.size();
            out.records++;
        }
        return out;
    }();
    return b;
}

// --- Threat intel: 1,000,000 indicators, in ioc_filter_bench's mix ------------------------------

// Private, shared, loopback, documentation and multicast space: not in real feeds, and where this
// benchmark's traffic comes from and goes to, so its filter hits are false positives only.
bool reserved_v4(uint32_t a) {
    const uint32_t o1 = a >> 24, o2 = (a >> 16) & 0xff;
    return o1 == 0 || o1 == 10 || o1 == 127 || o1 >= 224 || (o1 == 100 && (o2 & 0xc0) == 64) ||
           (o1 == 169 && o2 == 254) || (o1 == 172 && (o2 & 0xf0) == 16) ||
           (o1 == 192 && (o2 == 168 || o2 == 0)) || (o1 == 198 && (o2 & 0xfe) == 18) ||
           (a >> 8) == 0xc6336400 >> 8 || (a >> 8) == 0xcb007100 >> 8;
}

// 90% IPv4 /32, 5% IPv4 CIDRs (/24 mostly, some /16, /20, /28), 5% IPv6 (/128 and /64), all
// distinct.
std::string indicator_text() {
    std::string text;
    text.reserve(25u << 20);
    std::unordered_set<uint64_t> seen;  // prefix and length
    uint64_t rng = 2024;
    char line[64];
    for (int i = 0; i < 1000000;) {
        const uint64_t r = splitmix64(rng);
        const int bucket = i % 100;
        if (bucket < 95) {
            static const uint32_t kLens[5] = {24, 24, 16, 20, 28};
            const uint32_t len = bucket < 90 ? 32 : kLens[bucket - 90];
            const uint32_t a = static_cast<uint32_t>(r) & (~0u << (32 - len));
            if (reserved_v4(a) || !seen.insert(uint64_t{a} << 8 | len).second) continue;
            std::snprintf(line, sizeof line, "%u.%u.%u.%u/%u\n", a >> 24, (a >> 16) & 0xff,
                          (a >> 8) & 0xff, a & 0xff, len);
        } else {
            const bool host = bucket < 98;
            if (!seen.insert(uint64_t{1} << 63 | uint64_t{host} << 62 | (r >> 16)).second) continue;
            const auto h = [&](int shift) { return static_cast<unsigned>((r >> shift) & 0xffff); };
            if (host) {
                std::snprintf(line, sizeof line, "2001:%x:%x:%x::%x\n", h(16), h(32), h(48), h(0));
            } else {
                std::snprintf(line, sizeof line, "2001:%x:%x:%x::/64\n", h(16), h(32), h(48));
            }
        }
        text += line;
        ++i;
    }
    return text;
}

// The kernel's filter, built as Ruleset::load builds it from sift.ioc_files (one set, shared by
// every ruleset here instead of loading the file once per ruleset).
const std::vector<uint64_t> &indicator_filter() {
    static const std::vector<uint64_t> f = [] {
        sift::IocSet set;
        set.load_text(indicator_text(), "feed-1m.txt");
        return set.build_filter(config::defaults::kIocFilterBytes);
    }();
    return f;
}

wire::PrefilterTables tables_for(const sift::Ruleset &rs, bool indicators) {
    wire::PrefilterTables t = rs.tables();
    if (indicators) {
        const std::vector<uint64_t> &f = indicator_filter();
        t.ioc_header = reinterpret_cast<const wire::IocFilterHeader *>(f.data());
        t.ioc_words = f.data() + sizeof(wire::IocFilterHeader) / 8;
    }
    return t;
}

// --- Rules, as YAML -----------------------------------------------------------------------------

// Single-quoted YAML: backslashes stay as written (regexes); a quote is doubled.
std::string q(const std::string &s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::string quoted_list(const std::vector<std::string> &values) {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + q(values[i]);
    return out + "]";
}

std::string rule(const std::string &id, const std::string &match, const std::string &action) {
    return "    - {id: " + id + ", match: {" + match + "}, action: " + action + "}\n";
}

// Distinct made-up values, so no generated rule matches by accident and every literal is its own.
struct Names {
    uint32_t words = 0;
    uint32_t nets = 0;

    // A pronounceable word ("kavoru"), distinct for each of the first 15^3 * 5^3 calls.
    std::string word() {
        static const char kC[] = "bdfghklmnprstvz";
        static const char kV[] = "aeiou";
        uint32_t x = static_cast<uint32_t>((uint64_t{words++} * 7919 + 4242) % 421875);
        std::string w;
        for (int s = 0; s < 3; ++s) {
            w += kC[x % 15];
            x /= 15;
            w += kV[x % 5];
            x /= 5;
        }
        return w;
    }
    // A /24 in 100.64.0.0/10 (shared address space: none of this traffic uses it).
    std::string net() {
        const uint32_t n = nets++ % 16384;
        return "100." + std::to_string(64 + n / 256) + "." + std::to_string(n % 256) + ".0/24";
    }
};

// Literals start with words logs are full of, so the two-byte index finds candidates at many
// offsets of every message and compares them: the literal stage's real work.
const char *const kLogWords[] = {
    "error",      "failed",   "denied",  "session",  "connection", "user",   "timeout",   "invalid",
    "accepted",   "closed",   "started", "stopped",  "warning",    "kernel", "disk",      "memory",
    "process",    "service",  "request", "response", "login",      "logout", "password",  "audit",
    "policy",     "packet",   "drop",    "allow",    "blocked",    "port",   "interface", "link",
    "route",      "client",   "server",  "update",   "config",     "reload", "status",    "Success",
    "Connection", "Security", "User",    "Logon",    "Failed",     "master", "message",   "host"};
constexpr size_t kLogWordCount = sizeof kLogWords / sizeof kLogWords[0];

std::string literal(Names &n, uint32_t i) {
    return std::string(kLogWords[i % kLogWordCount]) + " " + n.word();
}

// n syslog rules (0, or at least 5). The generated mix, per 20 rules: 4 hostname, 3 app_name
// (one with msgid), 3 severity/facility masks with a hostname or app_name, 6 'contains' (one or
// two literals, some with a mask), 3 source CIDRs, 1 tag rule or hostname rule in turn.
std::string syslog_rules(uint32_t n) {
    if (n == 0) return "";
    if (n < 5) throw std::invalid_argument("syslog_rules: 0 or at least 5");
    Names names;
    std::string y = rule("threat-intel-to-alerts", "threat_intel: true", "route, topic: alerts");
    static const char *const kFacilities[] = {"local0", "local1", "local2", "local3",
                                              "local4", "local5", "local6", "local7"};
    for (uint32_t i = 1; i + 4 < n; ++i) {
        const std::string id = "gen-" + std::to_string(i);
        const auto host = [&] { return names.word() + ".corp.example"; };
        switch (i % 20) {
            case 0:
            case 1:
            case 2:
            case 3: {
                std::vector<std::string> hosts;
                for (uint32_t k = 0; k <= i % 3; ++k) hosts.push_back(host());
                y += rule(id, "hostname: " + quoted_list(hosts), "drop");
                break;
            }
            case 4:
            case 5:
                y += rule(id, "app_name: " + q(names.word() + "d"), "drop");
                break;
            case 6:
                y += rule(id, "app_name: " + q(names.word()) + ", msgid: " + q("EV" + names.word()),
                          "drop");
                break;
            case 7:
            case 8:
                y += rule(id,
                          std::string("facility: [") + kFacilities[i % 8] +
                              ", user], severity: " + "[info, debug], hostname: " + q(host()),
                          "drop");
                break;
            case 9:
                y += rule(id,
                          "severity: [notice, info], app_name: " +
                              quoted_list({names.word(), names.word()}),
                          "drop");
                break;
            case 10:
            case 11:
            case 12:
                y += rule(id, "contains: " + q(literal(names, i)), "drop");
                break;
            case 13:
                y +=
                    rule(id, "contains: " + quoted_list({literal(names, i), literal(names, i + 7)}),
                         "drop");
                break;
            case 14:
                y += rule(id,
                          "severity: [emerg, alert, crit, err], contains: " + q(literal(names, i)),
                          "route, topic: alerts");
                break;
            case 15:
                y += rule(id,
                          "facility: [auth, authpriv], contains: " +
                              quoted_list({literal(names, i), literal(names, i + 3)}),
                          "keep");
                break;
            case 16:
            case 17:
                y += rule(id, "source: " + names.net(), "drop");
                break;
            case 18:
                y += rule(
                    id,
                    "source: [" + names.net() + ", " + names.net() + "], severity: [info, debug]",
                    "sample, sample: 10");
                break;
            case 19:
                if (i % 40 == 19) {
                    y += rule(id, "contains: " + q(literal(names, i)),
                              "tag, tags: [" + names.word() + "]");
                } else {
                    y += rule(id, "hostname: " + q(host()) + ", source: " + names.net(), "drop");
                }
                break;
        }
    }
    // Common noise rules, last: these are what matches this traffic.
    y += rule("drop-snare-success-audit", "contains: 'Success Audit'", "drop");
    y += rule("drop-debug", "severity: debug", "drop");
    y += rule("tag-auth", "app_name: [su, sshd, 'sshd(pam_unix)']", "tag, tags: [auth]");
    y += rule("sample-user-notice", "facility: user, severity: notice", "sample, sample: 10");
    return y;
}

// n flow rules (0, or at least 5). The generated mix, per 10 rules: source CIDR; destination
// CIDRs and protocol; exporter (which matches) and an unused port; DNS or HTTPS over a byte
// threshold no flow reaches (ports and protocol match: the deepest check); a port range and an
// unused port; admin ports to a CIDR; internal sources (which match) to a CIDR; ICMP to a CIDR;
// a tag rule or an exporter CIDR in turn.
std::string flow_rules(uint32_t n) {
    if (n == 0) return "";
    if (n < 5) throw std::invalid_argument("flow_rules: 0 or at least 5");
    Names names;
    std::string y = rule("threat-intel-to-alerts", "threat_intel: true", "route, topic: alerts");
    for (uint32_t i = 1; i + 4 < n; ++i) {
        const std::string id = "gen-" + std::to_string(i);
        const std::string unused_port = std::to_string(20000 + (i * 37) % 40000);
        switch (i % 10) {
            case 0:
                y += rule(id, "source: " + names.net(), "drop");
                break;
            case 1:
                y += rule(id,
                          "destination: [" + names.net() + ", " + names.net() + "], protocol: tcp",
                          "drop");
                break;
            case 2:
                y += rule(id,
                          "exporter: 192.0.2." + std::to_string(1 + i % 4) +
                              "/32, dst_port: " + unused_port,
                          "drop");
                break;
            case 3:
                y += rule(
                    id,
                    "protocol: udp, dst_port: 53, bytes_min: " + std::to_string(1000000000ULL + i),
                    "route, topic: alerts");
                break;
            case 4:
                y += rule(
                    id,
                    "protocol: tcp, dst_port: 443, bytes_min: " + std::to_string(5000000000ULL + i),
                    "route, topic: alerts");
                break;
            case 5:
                y += rule(id, "protocol: tcp, src_port: 1024-65535, dst_port: " + unused_port,
                          "drop");
                break;
            case 6:
                y += rule(id, "destination: " + names.net() + ", dst_port: [22, 3389]", "keep");
                break;
            case 7:
                y += rule(id, "source: 10.0.0.0/8, destination: " + names.net(), "drop");
                break;
            case 8:
                y += rule(id, "protocol: icmp, destination: " + names.net(), "drop");
                break;
            case 9:
                if (i % 20 == 9) {
                    y += rule(id, "destination: " + names.net(),
                              "tag, tags: [" + names.word() + "]");
                } else {
                    y += rule(id, "exporter: " + names.net(), "drop");
                }
                break;
        }
    }
    y += rule("drop-internal-dns", "protocol: udp, dst_port: 53, destination: 10.0.0.0/8", "drop");
    y += rule("drop-small-icmp", "protocol: icmp, bytes_max: 1000", "drop");
    y += rule("tag-web", "protocol: tcp, dst_port: [80, 443]", "tag, tags: [web]");
    y += rule("route-large-upload", "bytes_min: 100000000", "route, topic: alerts");
    return y;
}

// Detections of the kind SIEM rule sets carry (authentication failures, sudo, firewall denies,
// Windows logon events, malware verdicts), each a family of rules over a list of values: rule i
// is family i % families, with value i / families (values past the list get a number).
struct RegexFamily {
    const char *pattern;  // "{}" is the value
    std::vector<std::string> values;
};

const std::vector<RegexFamily> &regex_families() {
    static const std::vector<std::string> kUsers = {
        "root",    "admin",   "administrator", "oracle", "postgres", "mysql",
        "test",    "guest",   "ubuntu",        "pi",     "ftp",      "www-data",
        "git",     "jenkins", "deploy",        "backup", "nagios",   "zabbix",
        "support", "user",    "operator",      "hadoop", "ec2-user", "centos",
        "debian",  "tomcat",  "elastic",       "ansible"};
    static const std::vector<std::string> kPorts = {
        "22",   "23",   "25",   "135",  "139",  "445",  "1433", "1521", "2375",  "3306",
        "3389", "5432", "5900", "5985", "6379", "8080", "8443", "9200", "11211", "27017"};
    static const std::vector<RegexFamily> f = {
        {R"(sshd\[\d+\]: Failed (password|publickey) for (invalid user )?{} from \d{1,3}(\.\d{1,3}){3} port \d+)",
         kUsers},
        {R"(sshd\[\d+\]: Invalid user {} from [0-9a-fA-F:.]+)", kUsers},
        {R"(sudo(\[\d+\])?:\s+{} : .*(\d+ incorrect password attempts?|user NOT in sudoers))",
         kUsers},
        {R"(pam_unix\((sshd|login|su|sudo|cron):auth\): authentication failure;.*\buser={}\b)",
         kUsers},
        {R"(%(ASA|PIX|FWSM)-[1-6]-{}: Deny (tcp|udp|icmp) src [\w-]+:\d{1,3}(\.\d{1,3}){3})",
         {"106001", "106006", "106007", "106010", "106014", "106015", "106021", "106023", "106100",
          "313001", "313004", "710003", "733100", "419002"}},
        {R"(\[UFW (BLOCK|AUDIT)\] IN=\w+ OUT=\w* .*PROTO=(TCP|UDP) .*DPT={}\b)", kPorts},
        {R"((?i)(iptables|nftables|kernel):.*\b(drop|reject|deny)\b.*\bDPT={}\b)", kPorts},
        {R"(EventID[=:\s]+{}\b.*(Logon Type[=:\s]+(3|10)|Account Name[=:\s]+\S+))",
         {"4625", "4771", "4776", "4720", "4722", "4724", "4728", "4732", "4740", "4756", "1102",
          "4648", "4672", "4697", "7045", "4698", "4719", "4738"}},
        {R"((?i)(powershell|pwsh)(\.exe)?\s.*\s-{}\s+[A-Za-z0-9+/=]{40,})",
         {"e", "en", "enc", "enco", "encodedcommand", "ec", "EncodedCommand", "encod"}},
        {R"(useradd\[\d+\]: new user: name={}, UID=\d+)", kUsers},
        {R"(segfault at [0-9a-f]+ ip [0-9a-f]+ sp [0-9a-f]+ error \d+ in {}\[)",
         {"libc\\.so\\.6", "libssl\\.so\\.3", "libcrypto\\.so\\.3", "nginx", "sshd", "httpd",
          "php-fpm", "java", "node", "python3\\.11"}},
        {R"(named\[\d+\]: client .*query(-errors)?.* '{}/(A|AAAA|TXT|ANY)/IN' denied)",
         {"[a-z0-9]{30,}\\.example\\.com", "version\\.bind", "[a-z0-9-]+\\.onion\\.to",
          "[0-9a-f]{32}\\.[a-z]+"}},
        {R"re(devname="?[\w-]+"? .*action="?(deny|blocked|dropped)"? .*dstport={}\b)re", kPorts},
        {R"(TRAFFIC,(end|drop|deny),.*,{},.*,(deny|drop|reset-both|reset-client),)",
         {"ssh", "ms-rdp", "smb", "telnet", "bittorrent", "tor", "ftp", "vnc", "teamviewer",
          "anydesk"}},
        {R"((?i)(virus|malware|trojan|ransomware) (found|detected|blocked):?\s+.*{})",
         {"Eicar", "Emotet", "TrickBot", "Mimikatz", "CobaltStrike", "Qakbot", "AgentTesla", "Ryuk",
          "Lockbit", "Dridex"}},
        {R"(dovecot: (imap|pop3)-login: (Aborted login|Disconnected) \(auth failed, \d+ attempts.*user=<{}>)",
         kUsers},
        {R"(CRON\[\d+\]: \({}\) CMD \(.*(curl|wget)\s+\S+.*\|\s*(ba)?sh)", kUsers},
        {R"(Accepted (password|publickey|keyboard-interactive/pam) for {} from \d{1,3}(\.\d{1,3}){3})",
         kUsers},
        {R"(su(\[\d+\])?: (FAILED SU|pam_authenticate: Authentication failure)( \(to {}\))?)",
         kUsers},
        {R"(action=(block|deny|drop)\s.*\bdst_?port=({})\b.*\bproto(col)?=(6|17|tcp|udp))", kPorts},
        {R"('su {}' failed for \S+ on /dev/(pts/\d+|tty\w*))", kUsers},
        {R"((Success|Failure) Audit.{1,40}Logon/Logoff.{1,20}{}:)",
         {"Successful Network Logon", "Special privileges assigned to new logon", "Logon Failure",
          "User Logoff", "Successful Logon", "Unknown user name or bad password"}},
    };
    return f;
}

std::string regex_rules(uint32_t n) {
    const std::vector<RegexFamily> &families = regex_families();
    std::string y;
    for (uint32_t i = 0; i < n; ++i) {
        const RegexFamily &f = families[i % families.size()];
        const uint32_t v = static_cast<uint32_t>(i / families.size());
        const std::string value = f.values[v % f.values.size()] +
                                  (v >= f.values.size() ? std::to_string(v / f.values.size()) : "");
        std::string re = f.pattern;
        re.replace(re.find("{}"), 2, value);
        y += rule("re-" + std::to_string(i), "regex: " + q(re), "route, topic: alerts");
    }
    return y;
}

// Through the loader users run: a config whose sift.rules is the generated list, with the kernel
// limits raised to what 10,000 rules need.
std::shared_ptr<const sift::Ruleset> load_ruleset(const std::string &rules) {
    const std::string yaml = "sift:\n  kernel: {max_rules: 16384, max_literals: 8192}\n  rules:" +
                             (rules.empty() ? std::string(" []\n") : "\n" + rules);
    return sift::Ruleset::load(config::load_config_string(yaml, "prefilter_bench.yaml"));
}

// Loaded once per process and size: a benchmark's function runs more than once.
template <std::string (*Rules)(uint32_t)>
std::shared_ptr<const sift::Ruleset> ruleset(int64_t n) {
    static std::map<int64_t, std::shared_ptr<const sift::Ruleset>> cache;
    auto &rs = cache[n];
    if (!rs) rs = load_ruleset(Rules(static_cast<uint32_t>(n)));
    return rs;
}

// --- What the kernel decided, over one pass ------------------------------------------------------

struct Outcome {
    uint64_t records = 0, matched = 0, dropped = 0, undecided = 0, ioc_maybe = 0;

    template <typename D>
    void add(const D &d) {
        records++;
        matched += d.rule_id != wire::kNoRule || d.sift.tag_count > 0;
        dropped += d.verdict == static_cast<uint8_t>(wire::Verdict::kFiltered);
        undecided += d.verdict == static_cast<uint8_t>(wire::Verdict::kUndecided);
        ioc_maybe += d.sift.ioc_maybe != 0;
    }
    void report(benchmark::State &st, const hls_kernels::PrefilterCounters &once) const {
        const double n = static_cast<double>(records);
        st.counters["matched_frac"] = static_cast<double>(matched) / n;
        st.counters["dropped_frac"] = static_cast<double>(dropped) / n;
        st.counters["undecided_frac"] = static_cast<double>(undecided) / n;
        st.counters["ioc_maybe_frac"] = static_cast<double>(ioc_maybe) / n;
        st.counters["rules_per_rec"] = static_cast<double>(once.rule_checks) / n;
        st.counters["probes_per_rec"] = static_cast<double>(once.literal_probes) / n;
    }
};

// --- Syslog: parse, then parse + prefilter ------------------------------------------------------

using DescriptorBuffer = std::vector<hls_kernels::beat_t>;

DescriptorBuffer descriptor_buffer() {
    return DescriptorBuffer(wire::kMaxRecordsPerBatch * wire::kDescriptorBeats);
}

wire::Descriptor descriptor_at(const DescriptorBuffer &out, uint32_t i) {
    wire::Descriptor d;
    std::memcpy(&d, &out[i * wire::kDescriptorBeats], sizeof d);
    return d;
}

void set_rates(benchmark::State &st, const SyslogBatches &b) {
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * b.bytes));
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * b.records));
    st.counters["avg_msg_bytes"] = static_cast<double>(b.bytes) / static_cast<double>(b.records);
}

void BM_SyslogParse(benchmark::State &st) {
    const SyslogBatches &b = syslog_batches();
    DescriptorBuffer out = descriptor_buffer();
    hls_kernels::SyslogParseCounters parse{};
    for (auto _ : st) {
        for (const auto &batch : b.batches) {
            hls_kernels::syslog_parse(beats(batch->data()), out.data(), 0, &parse);
        }
        benchmark::DoNotOptimize(out.data());
    }
    set_rates(st, b);
}
BENCHMARK(BM_SyslogParse)->Unit(benchmark::kMillisecond);

// Args: rules, indicators (0: none, 1: 1,000,000).
void BM_SyslogParsePrefilter(benchmark::State &st) {
    const wire::PrefilterTables t =
        tables_for(*ruleset<syslog_rules>(st.range(0)), st.range(1) != 0);
    const SyslogBatches &b = syslog_batches();
    DescriptorBuffer out = descriptor_buffer();
    hls_kernels::SyslogParseCounters parse{};
    hls_kernels::PrefilterCounters once{};
    Outcome outcome;
    for (const auto &batch : b.batches) {
        hls_kernels::syslog_parse(beats(batch->data()), out.data(), 0, &parse);
        hls_kernels::prefilter_syslog(beats(batch->data()), out.data(), t, &once);
        for (uint32_t i = 0; i < batch->records(); ++i) outcome.add(descriptor_at(out, i));
    }
    hls_kernels::PrefilterCounters ctr{};
    for (auto _ : st) {
        for (const auto &batch : b.batches) {
            hls_kernels::syslog_parse(beats(batch->data()), out.data(), 0, &parse);
            hls_kernels::prefilter_syslog(beats(batch->data()), out.data(), t, &ctr);
        }
        benchmark::DoNotOptimize(out.data());
    }
    set_rates(st, b);
    outcome.report(st, once);
}
BENCHMARK(BM_SyslogParsePrefilter)
    ->ArgsProduct({{0, 100, 1000, 10000}, {0, 1}})
    ->ArgNames({"rules", "iocs"})
    ->Unit(benchmark::kMillisecond);

// --- Flows: prefilter_flows over decoded records ------------------------------------------------

struct FlowBatch {
    std::unique_ptr<dataplane::IngestBatchBuilder> batch;
    std::unique_ptr<hls_kernels::beat_t[]> items;
    uint32_t item_count = 0;
    uint64_t records = 0;
};

using testing::be;
using testing::Bytes;
using testing::cat;

// The fields of an IPFIX exporter's IPv4 flows, with 64-bit counters and millisecond times.
const std::vector<testing::Field> kFlowFields = {{8, 4},   {12, 4},  {7, 2},  {11, 2},
                                                 {4, 1},   {6, 1},   {1, 8},  {2, 8},
                                                 {152, 8}, {153, 8}, {10, 4}, {14, 4}};

// Clients in 10.20.0.0/14: half HTTPS and a tenth HTTP to the internet (TEST-NET addresses),
// a fifth DNS to the two internal resolvers, some ICMP, the rest NTP/IPsec/OpenVPN; sizes from
// tens of bytes to megabytes.
Bytes flow_record(uint64_t &rng, uint32_t r) {
    const uint32_t src = 0x0a140000 | (r % 4) << 16 | ((r / 4) % 256) << 8 | (1 + (r / 1024) % 250);
    const uint64_t x = splitmix64(rng);
    const uint32_t kind = x % 100;
    uint32_t dst = 0xcb007100 | (x >> 8) % 256, dport = 443, proto = 6;
    uint64_t bytes = (40ULL << ((x >> 16) % 18)) + (x >> 32) % 1000;
    if (kind >= 50 && kind < 60) {
        dst = 0xc6336400 | (x >> 8) % 256, dport = 80;
    } else if (kind >= 60 && kind < 80) {
        dst = 0x0a000035 | ((x >> 8) % 2) << 8, dport = 53, proto = 17, bytes = 60 + bytes % 540;
    } else if (kind >= 80 && kind < 85) {
        dst = 0xc6336400 | (x >> 8) % 256, dport = 0x0800, proto = 1, bytes = 84 * (1 + bytes % 10);
    } else if (kind >= 85) {
        static const uint32_t kPorts[4] = {123, 500, 4500, 1194};
        dport = kPorts[(x >> 8) % 4], proto = 17;
    }
    const uint64_t packets = bytes / 1200 + 1;
    const uint64_t start_ms = 1700000000000ULL + r * 10;
    return cat({be(src, 4), be(dst, 4), be(1024 + (x >> 40) % 64000, 2), be(dport, 2), be(proto, 1),
                be(proto == 6 ? 0x1b : 0, 1), be(bytes, 8), be(packets, 8), be(start_ms, 8),
                be(start_ms + 1 + (x >> 24) % 60000, 8), be(3, 4), be(7, 4)});
}

// One full batch: 256 IPFIX datagrams of 30 records from 4 exporters, decoded by flow_parse with
// the templates already learned, as in a running collector.
const FlowBatch &flow_batch() {
    static const FlowBatch fb = [] {
        constexpr uint32_t kRecordsPerDatagram = 30;
        const Bytes templates =
            testing::ipfix_message(1, 1700000000, {testing::template_set(true, 256, kFlowFields)});
        testing::FlowEngine engine;
        std::vector<testing::Datagram> warm;
        for (uint8_t e = 1; e <= 4; ++e) warm.push_back(testing::ipfix(templates, {192, 0, 2, e}));
        engine.run(warm);
        FlowBatch out;
        out.batch = std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch,
                                                                    dataplane::Engine::kFlow);
        uint64_t rng = 5;
        for (uint32_t d = 0; d < wire::kMaxRecordsPerBatch; ++d) {
            Bytes records;
            for (uint32_t k = 0; k < kRecordsPerDatagram; ++k) {
                records = cat({records, flow_record(rng, d * kRecordsPerDatagram + k)});
            }
            const Bytes dg =
                testing::ipfix_message(1, 1700000000, {testing::data_set(256, records)});
            const Addr exporter = v4(0xc0000201 + d % 4);
            const dataplane::RecordMeta meta{exporter.data(),
                                             exporter.data(),
                                             40000,
                                             4739,
                                             wire::RecordKind::kIpfix,
                                             0,
                                             0,
                                             0,
                                             1700000000ULL * 1000000000ULL,
                                             d + 1u};
            if (!out.batch->add(meta, dg.data(), static_cast<uint32_t>(dg.size())))
                throw std::logic_error("flow batch full");
        }
        out.items = std::make_unique<hls_kernels::beat_t[]>(size_t{wire::kMaxFlowItemsPerBatch} *
                                                            wire::kDescriptorBeats);
        hls_kernels::FlowParseCounters ctr{};
        out.item_count = hls_kernels::flow_parse(beats(out.batch->data()), out.items.get(),
                                                 wire::kMaxFlowItemsPerBatch, {5400LL * 1000000000},
                                                 engine.state.get(), &ctr);
        out.records = ctr.records;
        if (out.records != wire::kMaxRecordsPerBatch * kRecordsPerDatagram)
            throw std::logic_error("flow_parse did not decode every record");
        return out;
    }();
    return fb;
}

// Args: rules, indicators (0: none, 1: 1,000,000).
void BM_FlowPrefilter(benchmark::State &st) {
    const wire::PrefilterTables t = tables_for(*ruleset<flow_rules>(st.range(0)), st.range(1) != 0);
    const FlowBatch &fb = flow_batch();
    // prefilter_flows rewrites verdicts in place from scratch, so one copy serves every pass.
    auto items =
        std::make_unique<hls_kernels::beat_t[]>(size_t{fb.item_count} * wire::kDescriptorBeats);
    std::memcpy(items.get(), fb.items.get(), size_t{fb.item_count} * wire::kDescriptorBytes);
    hls_kernels::PrefilterCounters once{};
    hls_kernels::prefilter_flows(beats(fb.batch->data()), items.get(), fb.item_count, t, &once);
    Outcome outcome;
    for (uint32_t k = 0; k < fb.item_count; ++k) {
        wire::FlowDescriptor d;
        std::memcpy(&d, &items[size_t{k} * wire::kDescriptorBeats], sizeof d);
        if (d.item == static_cast<uint8_t>(wire::FlowItem::kRecord)) outcome.add(d);
    }
    hls_kernels::PrefilterCounters ctr{};
    for (auto _ : st) {
        hls_kernels::prefilter_flows(beats(fb.batch->data()), items.get(), fb.item_count, t, &ctr);
        benchmark::DoNotOptimize(items.get());
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * fb.records));
    outcome.report(st, once);
}
BENCHMARK(BM_FlowPrefilter)
    ->ArgsProduct({{0, 100, 1000, 10000}, {0, 1}})
    ->ArgNames({"rules", "iocs"})
    ->Unit(benchmark::kMicrosecond);

// --- Host: regex rules on the records the kernel left undecided ---------------------------------

struct Undecided {
    wire::IngestRecordHeader rec;
    const uint8_t *payload;
    wire::Descriptor d;
};

// The records of the syslog batches the kernel leaves undecided with these tables.
std::vector<Undecided> undecided(const wire::PrefilterTables &t) {
    DescriptorBuffer out = descriptor_buffer();
    hls_kernels::SyslogParseCounters parse{};
    hls_kernels::PrefilterCounters ctr{};
    std::vector<Undecided> events;
    for (const auto &batch : syslog_batches().batches) {
        hls_kernels::syslog_parse(beats(batch->data()), out.data(), 0, &parse);
        hls_kernels::prefilter_syslog(beats(batch->data()), out.data(), t, &ctr);
        const uint8_t *at = batch->data() + wire::kBeatBytes;
        for (uint32_t i = 0; i < batch->records(); ++i) {
            Undecided u;
            std::memcpy(&u.rec, at, sizeof u.rec);
            u.payload = at + wire::kBeatBytes;
            u.d = descriptor_at(out, i);
            if (u.d.verdict == static_cast<uint8_t>(wire::Verdict::kUndecided)) events.push_back(u);
            at += wire::kBeatBytes * (1 + wire::payload_beats(u.rec.payload_len));
        }
    }
    return events;
}

void set_event_rates(benchmark::State &st, size_t events) {
    const double n = static_cast<double>(events);
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * events));
    st.counters["time_per_event"] =
        benchmark::Counter(n * static_cast<double>(st.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.counters["undecided_frac"] = n / static_cast<double>(syslog_batches().records);
}

// Arg: regex rules. Each is only a regex, so the kernel leaves every record undecided from the
// first rule: every record reaches Hyperscan (one scan of its message against the database of
// all the rules), then the host walks the rules in order. CEF/LEEF parsing (the caller's) is not
// timed: these rules do not use it.
void BM_HostRegex(benchmark::State &st) {
    const sift::RulesetSource source(ruleset<regex_rules>(st.range(0)));
    sift::Sifter sifter(source);
    const std::vector<Undecided> events = undecided(source.current()->tables());
    uint64_t matched = 0;
    for (const Undecided &u : events) {
        matched += sifter.decide_syslog(u.rec, u.payload, u.d, nullptr).rule != wire::kNoRule;
    }
    for (auto _ : st) {
        for (const Undecided &u : events) {
            benchmark::DoNotOptimize(&sifter.decide_syslog(u.rec, u.payload, u.d, nullptr));
        }
    }
    set_event_rates(st, events.size());
    st.counters["matched_frac"] = static_cast<double>(matched) / static_cast<double>(events.size());
}
BENCHMARK(BM_HostRegex)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->ArgName("regexes");

int count_match(unsigned, unsigned long long, unsigned long long, unsigned, void *ctx) {
    ++*static_cast<uint64_t *>(ctx);
    return 0;  // as the Sifter: keep scanning, other rules may match too
}

// The Hyperscan scan alone, of the same messages with the same database: what of BM_HostRegex
// is the scan, and what the walk over the rules.
void BM_HostRegexScanOnly(benchmark::State &st) {
    const sift::Ruleset &rs = *ruleset<regex_rules>(st.range(0));
    hs_scratch_t *scratch = nullptr;
    if (hs_alloc_scratch(rs.regex_db(), &scratch) != HS_SUCCESS) throw std::bad_alloc();
    std::vector<std::string_view> messages;
    for (const Undecided &u : undecided(rs.tables())) {
        messages.emplace_back(reinterpret_cast<const char *>(u.payload) + u.d.message.off,
                              u.d.message.len);
    }
    uint64_t matches = 0;
    for (auto _ : st) {
        for (const std::string_view m : messages) {
            hs_scan(rs.regex_db(), m.data(), static_cast<unsigned>(m.size()), 0, scratch,
                    count_match, &matches);
        }
    }
    hs_free_scratch(scratch);
    set_event_rates(st, messages.size());
    st.counters["matches_per_event"] =
        static_cast<double>(matches) / static_cast<double>(st.iterations() * messages.size());
}
BENCHMARK(BM_HostRegexScanOnly)->Arg(1)->Arg(10)->Arg(100)->Arg(1000)->ArgName("regexes");

}  // namespace

BENCHMARK_MAIN();
