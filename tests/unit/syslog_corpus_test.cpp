// Corpus conformance: the syslog_parse kernel against the expected outputs shipped with two
// third-party test suites (tests/corpus/SOURCES.md):
//   * rsyslog's parser testsuite (syslog/rsyslog/parser-testsuite/*): nettester pairs of an escaped
//     input line and the rsyslog output line rendered with a per-file template;
//   * Telegraf's inputs.syslog testcases (syslog/telegraf/<case>/): one datagram in input.txt and
//     the parsed metric in expected.out (InfluxDB line protocol) or a strict-mode expected.err.
//
// Every field of every case is compared. A mismatch must be listed in
// tests/corpus/known-differences.tsv (source, 0-based message index, field, reason); a listed
// difference that no longer occurs fails the test too, so the file stays true.
//
// Systematic normalisations (documented here, not listed per case):
//   * rsyslog's %msg% of an RFC 3164 message keeps the SP after the tag; ours drops exactly one.
//     The first SP of rsyslog's msg is removed before comparing.
//   * rsyslog's "~H" (the receiver's hostname, used when the message has none) means an empty
//     hostname for us.
//   * rsyslog escapes on receive ($EscapeControlCharactersOnReceive, on by default: control
//     characters become "#ooo"; 8bit.parse_8bit_escape also escapes bytes >= 0x80). The same
//     escaping is applied to our fields before comparing (it does not move any field boundary).
//   * Telegraf omits absent fields; an absent field is compared as our empty value (no timestamp
//     = our "no timestamp" note, no version = RFC 3164).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "event/syslog_event.hpp"
#include "kernel_harness.hpp"

namespace tapsift::testing {
namespace {

namespace fs = std::filesystem;

using Fields = std::map<std::string, std::string>;

const fs::path kCorpus{TAPSIFT_TEST_CORPUS};
const std::string kRsyslogDir = "syslog/rsyslog/parser-testsuite";
const std::string kTelegrafDir = "syslog/telegraf";
const std::string kKnownDifferences = "known-differences.tsv";

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Lines without their LF; a final LF does not start an empty line.
std::vector<std::string> split_lines(const std::string &text) {
    std::vector<std::string> lines;
    size_t begin = 0;
    while (begin < text.size()) {
        const size_t end = text.find('\n', begin);
        if (end == std::string::npos) {
            lines.push_back(text.substr(begin));
            break;
        }
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return lines;
}

std::vector<std::string> sorted_entries(const fs::path &dir, bool directories) {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(dir)) {
        if (directories ? e.is_directory() : e.is_regular_file())
            names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// For failure messages: control and 8-bit bytes as \xNN, long values shortened.
std::string printable(std::string_view s, size_t max = 200) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c >= 0x7f) {
            static const char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max) out += "...(" + std::to_string(s.size()) + " bytes)";
    return "\"" + out + "\"";
}

bool has_timestamp(const ParsedSyslog &p) {
    return (p.d.notes & wire::kNoteNoTimestamp) == 0;
}

std::tm utc_tm(int64_t unix_ns) {
    int64_t secs = unix_ns / 1000000000;
    if (unix_ns % 1000000000 < 0) --secs;
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}

// rsyslog's %timestamp% (date-rfc3164): "Mmm dd hh:mm:ss", day SP-padded ("Mar  7");
// date-rfc3164-buggyday pads with '0' ("Mar 07").
std::string rfc3164_date(int64_t unix_ns, bool buggyday) {
    static const char *const kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::tm tm = utc_tm(unix_ns);
    char buf[80];
    std::snprintf(buf, sizeof buf, buggyday ? "%s %02d %02d:%02d:%02d" : "%s %2d %02d:%02d:%02d",
                  kMonths[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

// The first 19 characters of date-rfc3339: "YYYY-MM-DDThh:mm:ss".
std::string rfc3339_seconds(int64_t unix_ns) {
    const std::tm tm = utc_tm(unix_ns);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

// ---------------------------------------------------------------------------------------------
// known-differences.tsv and the comparison bookkeeping
// ---------------------------------------------------------------------------------------------

using DiffKey = std::tuple<std::string, int, std::string>;  // source, index, field

std::string key_text(const DiffKey &k) {
    return std::get<0>(k) + " #" + std::to_string(std::get<1>(k)) + " " + std::get<2>(k);
}

// Lines starting with '#' and blank lines are comments; the first other line is the header.
std::map<DiffKey, std::string> load_known_differences(std::vector<std::string> &errors) {
    std::map<DiffKey, std::string> known;
    const std::vector<std::string> lines = split_lines(read_file(kCorpus / kKnownDifferences));
    bool header_seen = false;
    for (size_t n = 0; n < lines.size(); ++n) {
        const std::string &line = lines[n];
        const std::string where = kKnownDifferences + ":" + std::to_string(n + 1) + ": ";
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        size_t begin = 0;
        for (size_t tab; (tab = line.find('\t', begin)) != std::string::npos; begin = tab + 1) {
            cols.push_back(line.substr(begin, tab - begin));
        }
        cols.push_back(line.substr(begin));
        if (!header_seen) {
            header_seen = true;
            if (line != "source\tindex\tfield\treason")
                errors.push_back(where + "expected the header row");
            continue;
        }
        if (cols.size() != 4 || cols[0].empty() || cols[2].empty() || cols[3].empty() ||
            cols[1].empty() || cols[1].find_first_not_of("0123456789") != std::string::npos) {
            errors.push_back(where +
                             "want source<TAB>index<TAB>field<TAB>reason: " + printable(line));
            continue;
        }
        if (!fs::is_regular_file(kCorpus / cols[0]))
            errors.push_back(where + "no such corpus file " + cols[0]);
        const DiffKey key{cols[0], std::stoi(cols[1]), cols[2]};
        if (!known.emplace(key, cols[3]).second)
            errors.push_back(where + "duplicate entry " + key_text(key));
    }
    if (!header_seen) errors.push_back(kKnownDifferences + ": empty");
    return known;
}

// Compares fields, checks them against the known differences whose source starts with prefix,
// and keeps per-file counts for the report.
class CorpusCheck {
  public:
    explicit CorpusCheck(std::string prefix) : prefix_(std::move(prefix)) {
        std::vector<std::string> errors;
        for (const auto &[key, reason] : load_known_differences(errors)) {
            if (starts_with(std::get<0>(key), prefix_)) known_.emplace(key, reason);
        }
        for (const std::string &e : errors) ADD_FAILURE() << e;
    }

    void begin_file(const std::string &source) { stats_[source]; }
    void begin_case(const std::string &source) { stats_[source].cases++; }

    void field(const std::string &source, int index, const std::string &field,
               const std::string &expected, const std::string &actual) {
        const DiffKey key{source, index, field};
        Stats &st = stats_[source];
        st.fields++;
        if (!compared_.insert(key).second) ADD_FAILURE() << "compared twice: " << key_text(key);
        if (expected == actual) return;
        differing_.insert(key);
        st.differences++;
        if (known_.count(key) != 0) return;
        ADD_FAILURE() << "difference not in " << kKnownDifferences << ": " << source << "\t"
                      << index << "\t" << field << "\n  expected " << printable(expected)
                      << "\n  actual   " << printable(actual);
    }

    // A case that could not be compared at all (unreadable expected output).
    void fail(const std::string &source, int index, const std::string &why) {
        ADD_FAILURE() << source << " #" << index << ": " << why;
    }

    // Stale entries, the per-file report, and "something was compared at all".
    void finish() {
        for (const auto &[key, reason] : known_) {
            if (compared_.count(key) == 0) {
                ADD_FAILURE() << kKnownDifferences << " lists " << key_text(key)
                              << ", which this test never compares (wrong source, index or field?)";
            } else if (differing_.count(key) == 0) {
                ADD_FAILURE() << kKnownDifferences << " lists " << key_text(key)
                              << ", which no longer differs: remove the entry";
            }
        }
        int cases = 0, fields = 0;
        for (const auto &[source, st] : stats_) {
            std::cout << "[ corpus   ] " << source << ": " << st.cases << " cases, " << st.fields
                      << " fields compared, " << st.differences << " differ\n";
            EXPECT_GT(st.cases, 0) << source << ": no case found";
            cases += st.cases;
            fields += st.fields;
        }
        std::cout << "[ corpus   ] " << prefix_ << " total: " << stats_.size() << " files, "
                  << cases << " cases, " << fields << " fields compared, " << differing_.size()
                  << " differ, " << known_.size() << " listed in " << kKnownDifferences << "\n";
        EXPECT_GT(cases, 0) << "no corpus case was compared under " << prefix_;
    }

  private:
    struct Stats {
        int cases = 0, fields = 0, differences = 0;
    };
    std::string prefix_;
    std::map<DiffKey, std::string> known_;
    std::map<std::string, Stats> stats_;
    std::set<DiffKey> compared_, differing_;
};

// ---------------------------------------------------------------------------------------------
// rsyslog nettester files
// ---------------------------------------------------------------------------------------------

// Port of scripts/make-syslog-pcap nettester_unescape() (itself a port of rsyslog's
// tests/nettester.c unescapeTestdata()): \\ \n \r \t, \NNN octal with a first digit 0-3 and up
// to two more digits (isdigit(), so 8 and 9 are accepted too), any other escape drops the
// backslash, a trailing lone backslash ends the line.
std::string nettester_unescape(std::string_view line) {
    std::string out;
    size_t i = 0;
    const size_t n = line.size();
    while (i < n) {
        const char c = line[i];
        if (c != '\\') {
            out += c;
            ++i;
            continue;
        }
        ++i;
        if (i >= n) break;
        const char e = line[i];
        if (e == '\\') {
            out += '\\';
            ++i;
        } else if (e == 'n') {
            out += '\n';
            ++i;
        } else if (e == 'r') {
            out += '\r';
            ++i;
        } else if (e == 't') {
            out += '\t';
            ++i;
        } else if (e >= '0' && e <= '3') {
            int v = e - '0';
            ++i;
            for (int k = 1; k < 3 && i < n && line[i] >= '0' && line[i] <= '9'; ++k, ++i)
                v = v * 8 + (line[i] - '0');
            out += static_cast<char>(v & 0xff);
        }
        // else: the backslash is dropped and the character is copied by the next iteration
    }
    return out;
}

struct NettesterPair {
    std::string input;     // unescaped, as sent (UDP, no trailing LF)
    std::string expected;  // raw expected line
};

// '#' lines are comments only where an input line is expected (like nettester).
std::vector<NettesterPair> read_nettester_pairs(const fs::path &path) {
    const std::vector<std::string> lines = split_lines(read_file(path));
    std::vector<NettesterPair> pairs;
    for (size_t i = 0; i < lines.size();) {
        if (starts_with(lines[i], "#")) {
            ++i;
            continue;
        }
        if (i + 1 >= lines.size())
            throw std::runtime_error(path.string() + ": input line without expected line");
        pairs.push_back({nettester_unescape(lines[i]), lines[i + 1]});
        i += 2;
    }
    return pairs;
}

// The rsyslog output templates of the parser-testsuite (/work/shared/corpus/SOURCES.md).
enum class Template {
    kParse1,       // %PRI%,%syslogfacility-text%,%syslogseverity-text%,%timestamp%,%hostname%,
                   // %programname%,%syslogtag%,%msg%
    kBuggyDay,     // kParse1 with %timestamp:::date-rfc3164-buggyday%
    kParse2,       // kParse1 without %hostname%
    kNoDate,       // kParse1 without %timestamp%
    kCsv,          // %timereported:1:19:date-rfc3339,csv%, %hostname:::csv%, %programname:::csv%,
                   // %syslogtag:R,ERE,0,BLANK:[0-9]+--end:csv%, %syslogseverity:::csv%,
                   // %msg:::drop-last-lf,csv%
    kCsvBadRegex,  // kCsv whose syslogtag regex is broken on purpose: that column is not compared
    kSql,          // insert ... values ('%msg:::space-cc%', %syslogfacility%, '%hostname%',
           // %syslogpriority%, '%timereported:::date-mysql%', '%timegenerated:::date-mysql%',
           // %iut%, '%syslogtag:::space-cc%')
};

// What rsyslog did to the bytes on receive, or the template's space-cc.
enum class Escape {
    kNone,
    kControl,         // $EscapeControlCharactersOnReceive on (the default): iscntrl -> #ooo
    kControlAnd8Bit,  // and $Escape8BitCharactersOnReceive on: bytes >= 0x80 -> #ooo
    kSpaceCc,         // receive escaping off, msg and syslogtag through space-cc (control -> SP)
};

struct RsyslogFile {
    Template tmpl;
    Escape escape;
};

std::optional<RsyslogFile> rsyslog_file(const std::string &name) {
    static const std::map<std::string, RsyslogFile> kFiles = {
        {"8bit.parse_8bit_escape", {Template::kParse1, Escape::kControlAnd8Bit}},
        {"reallife.parse2", {Template::kParse2, Escape::kControl}},
        {"reallife.parse3", {Template::kCsv, Escape::kControl}},
        {"samples.parse-3164-buggyday", {Template::kBuggyDay, Escape::kControl}},
        {"samples.parse-nodate", {Template::kNoDate, Escape::kControl}},
        {"samples.parse_invld_regex", {Template::kCsvBadRegex, Escape::kControl}},
        {"samples.snare_ccoff_udp", {Template::kNoDate, Escape::kNone}},
        {"samples.snare_ccoff_udp2", {Template::kSql, Escape::kSpaceCc}},
    };
    const auto it = kFiles.find(name);
    if (it != kFiles.end()) return it->second;
    const std::string suffix = ".parse1";
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return RsyslogFile{Template::kParse1, Escape::kControl};
    }
    return std::nullopt;
}

std::string rsyslog_escape(std::string_view s, Escape escape) {
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool control = c < 0x20 || c == 0x7f;
        if (escape == Escape::kSpaceCc && control) {
            out += ' ';
        } else if ((escape == Escape::kControl || escape == Escape::kControlAnd8Bit) && control) {
            out += '#';
            out += static_cast<char>('0' + (c >> 6));
            out += static_cast<char>('0' + ((c >> 3) & 7));
            out += static_cast<char>('0' + (c & 7));
        } else if (escape == Escape::kControlAnd8Bit && c >= 0x80) {
            out += '#';
            out += static_cast<char>('0' + (c >> 6));
            out += static_cast<char>('0' + ((c >> 3) & 7));
            out += static_cast<char>('0' + (c & 7));
        } else {
            out += ch;
        }
    }
    return out;
}

// Comma templates: the leading properties (head) hold no comma; the last three,
// %programname%,%syslogtag%,%msg%, may. rsyslog derives programname from the tag, so the split
// taken is the shortest programname for which a following syslogtag starts with it, then the
// shortest such syslogtag.
std::optional<Fields> parse_comma_template(const std::string &line,
                                           const std::vector<std::string> &head) {
    Fields f;
    size_t pos = 0;
    for (const std::string &name : head) {
        const size_t comma = line.find(',', pos);
        if (comma == std::string::npos) return std::nullopt;
        f[name] = line.substr(pos, comma - pos);
        pos = comma + 1;
    }
    const std::string rest = line.substr(pos);
    std::vector<size_t> commas;
    for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == ',') commas.push_back(i);
    }
    for (size_t i = 0; i < commas.size(); ++i) {
        const std::string prog = rest.substr(0, commas[i]);
        for (size_t j = i + 1; j < commas.size(); ++j) {
            const std::string tag = rest.substr(commas[i] + 1, commas[j] - commas[i] - 1);
            if (!starts_with(tag, prog)) continue;
            f["programname"] = prog;
            f["syslogtag"] = tag;
            f["msg"] = rest.substr(commas[j] + 1);
            return f;
        }
    }
    return std::nullopt;
}

// Items of a CSV-ish list: "quoted" (with "" for a quote) or bare up to the next ',';
// one SP after each ',' is a separator. Bare items are returned as nullopt.
std::optional<std::vector<std::optional<std::string>>> parse_csv(const std::string &line) {
    std::vector<std::optional<std::string>> items;
    size_t p = 0;
    while (true) {
        if (p < line.size() && line[p] == '"') {
            std::string v;
            ++p;
            while (true) {
                if (p >= line.size()) return std::nullopt;
                if (line[p] == '"') {
                    if (p + 1 < line.size() && line[p + 1] == '"') {
                        v += '"';
                        p += 2;
                        continue;
                    }
                    ++p;
                    break;
                }
                v += line[p++];
            }
            items.emplace_back(v);
        } else {
            p = std::min(line.find(',', p), line.size());
            items.emplace_back(std::nullopt);
        }
        if (p >= line.size()) return items;
        if (line[p] != ',') return std::nullopt;
        ++p;
        if (p < line.size() && line[p] == ' ') ++p;
    }
}

std::optional<Fields> parse_csv_template(const std::string &line, bool bad_regex) {
    const auto items = parse_csv(line);
    static const char *const kNames[6] = {"timereported", "hostname",      "programname",
                                          "procid",       "severity_code", "msg"};
    if (!items || items->size() != 6) return std::nullopt;
    Fields f;
    for (size_t i = 0; i < 6; ++i) {
        if (bad_regex && i == 3) {
            if ((*items)[i]) return std::nullopt;  // the error text is the bare item
            continue;
        }
        if (!(*items)[i]) return std::nullopt;
        f[kNames[i]] = *(*items)[i];
    }
    return f;
}

// "insert into windows (...) values ('a', 1, 'b',5, ...)": 'quoted' items with \x or '' escapes,
// or bare items.
std::optional<Fields> parse_sql_template(const std::string &line) {
    const std::string marker = " values (";
    const size_t at = line.find(marker);
    if (at == std::string::npos || line.empty() || line.back() != ')') return std::nullopt;
    const std::string tuple = line.substr(at + marker.size(), line.size() - at - marker.size() - 1);
    std::vector<std::string> items;
    size_t p = 0;
    while (p <= tuple.size()) {
        while (p < tuple.size() && tuple[p] == ' ') ++p;
        std::string v;
        if (p < tuple.size() && tuple[p] == '\'') {
            ++p;
            while (true) {
                if (p >= tuple.size()) return std::nullopt;
                if (tuple[p] == '\\' && p + 1 < tuple.size()) {
                    v += tuple[p + 1];
                    p += 2;
                } else if (tuple[p] == '\'' && p + 1 < tuple.size() && tuple[p + 1] == '\'') {
                    v += '\'';
                    p += 2;
                } else if (tuple[p] == '\'') {
                    ++p;
                    break;
                } else {
                    v += tuple[p++];
                }
            }
        } else {
            const size_t end = std::min(tuple.find(',', p), tuple.size());
            v = tuple.substr(p, end - p);
            p = end;
        }
        items.push_back(v);
        while (p < tuple.size() && tuple[p] == ' ') ++p;
        if (p >= tuple.size()) break;
        if (tuple[p] != ',') return std::nullopt;
        ++p;
    }
    if (items.size() != 8) return std::nullopt;
    // DeviceReportedTime / ReceivedAt are the receive time of the original run, InfoUnitID is
    // rsyslog-internal: not compared.
    return Fields{{"msg", items[0]},
                  {"facility_code", items[1]},
                  {"hostname", items[2]},
                  {"severity_code", items[3]},
                  {"syslogtag", items[7]}};
}

std::optional<Fields> parse_rsyslog_expected(const std::string &line, Template tmpl) {
    switch (tmpl) {
        case Template::kParse1:
        case Template::kBuggyDay:
            return parse_comma_template(line,
                                        {"pri", "facility", "severity", "timestamp", "hostname"});
        case Template::kParse2:
            return parse_comma_template(line, {"pri", "facility", "severity", "timestamp"});
        case Template::kNoDate:
            return parse_comma_template(line, {"pri", "facility", "severity", "hostname"});
        case Template::kCsv:
            return parse_csv_template(line, false);
        case Template::kCsvBadRegex:
            return parse_csv_template(line, true);
        case Template::kSql:
            return parse_sql_template(line);
    }
    return std::nullopt;
}

// %syslogtag%: for RFC 5424 rsyslog builds APP-NAME[PROCID]; for RFC 3164 it is the raw tag, i.e.
// our payload from the tag's start to the message, less the one SP we skip.
std::string our_syslogtag(const ParsedSyslog &p) {
    if (p.d.format == static_cast<uint8_t>(wire::SyslogFormat::kRfc5424)) {
        return p.procid.empty() ? p.appname : p.appname + "[" + p.procid + "]";
    }
    if (p.d.appname.len == 0) return "";
    std::string tag = p.payload.substr(p.d.appname.off, p.d.message.off - p.d.appname.off);
    if (!tag.empty() && tag.back() == ' ') tag.pop_back();
    return tag;
}

// Our parse result as the rsyslog properties the templates use.
Fields rsyslog_view(const ParsedSyslog &p, const RsyslogFile &file) {
    const Escape field_escape = file.escape == Escape::kSpaceCc ? Escape::kNone : file.escape;
    const Escape text_escape = file.escape;  // msg and syslogtag (space-cc in the SQL template)
    const std::string tag = our_syslogtag(p);
    return Fields{
        {"pri", std::to_string(p.d.priority)},
        {"facility", event::facility_name(p.facility())},
        {"severity", event::severity_name(p.severity())},
        {"facility_code", std::to_string(p.facility())},
        {"severity_code", std::to_string(p.severity())},
        {"timestamp", rfc3164_date(p.d.timestamp_ns, file.tmpl == Template::kBuggyDay)},
        {"timereported", rfc3339_seconds(p.d.timestamp_ns)},
        {"hostname", rsyslog_escape(p.hostname, field_escape)},
        {"programname", rsyslog_escape(p.appname, field_escape)},
        // The csv template's %syslogtag:R,ERE,0,BLANK:[0-9]+--end% is the PID of "tag[pid]".
        {"procid", rsyslog_escape(p.procid, field_escape)},
        {"syslogtag", rsyslog_escape(tag, text_escape)},
        {"msg", rsyslog_escape(p.message, text_escape)},
    };
}

TEST(SyslogCorpus, RsyslogParserTestsuite) {
    CorpusCheck check(kRsyslogDir + "/");
    const std::vector<std::string> names = sorted_entries(kCorpus / kRsyslogDir, false);
    ASSERT_FALSE(names.empty()) << (kCorpus / kRsyslogDir);
    for (const std::string &name : names) {
        const std::string source = kRsyslogDir + "/" + name;
        check.begin_file(source);
        const std::optional<RsyslogFile> file = rsyslog_file(name);
        if (!file) {
            ADD_FAILURE() << source << ": no rsyslog template is known for this file";
            continue;
        }
        const std::vector<NettesterPair> pairs = read_nettester_pairs(kCorpus / source);
        std::vector<std::string> inputs;
        for (const NettesterPair &pr : pairs) inputs.push_back(pr.input);
        const std::vector<ParsedSyslog> parsed = parse_messages(inputs);
        ASSERT_EQ(parsed.size(), pairs.size());
        for (size_t i = 0; i < pairs.size(); ++i) {
            const int index = static_cast<int>(i);
            std::optional<Fields> expected = parse_rsyslog_expected(pairs[i].expected, file->tmpl);
            if (!expected) {
                check.fail(source, index,
                           "cannot read the expected line " + printable(pairs[i].expected));
                continue;
            }
            check.begin_case(source);
            const ParsedSyslog &p = parsed[i];
            if (p.d.format != static_cast<uint8_t>(wire::SyslogFormat::kRfc5424)) {
                std::string &msg = (*expected)["msg"];
                if (starts_with(msg, " ")) msg.erase(0, 1);  // rsyslog keeps the SP after the tag
            }
            const auto host = expected->find("hostname");
            if (host != expected->end() && host->second == "~H") host->second.clear();
            const Fields ours = rsyslog_view(p, *file);
            for (const auto &[field, value] : *expected)
                check.field(source, index, field, value, ours.at(field));
        }
    }
    check.finish();
}

// ---------------------------------------------------------------------------------------------
// Telegraf testcases
// ---------------------------------------------------------------------------------------------

struct Metric {
    std::string measurement;
    Fields tags;
    Fields fields;  // string values unescaped, 12i / 1u suffixes dropped
};

// One InfluxDB line-protocol line: measurement[,tag=value...] field=value[,...] [timestamp].
std::optional<Metric> parse_line_protocol(const std::string &line) {
    Metric m;
    size_t p = 0;
    const auto read_key = [&](const char *stops) {
        std::string s;
        while (p < line.size() && std::string_view(stops).find(line[p]) == std::string_view::npos) {
            if (line[p] == '\\' && p + 1 < line.size()) ++p;
            s += line[p++];
        }
        return s;
    };
    m.measurement = read_key(", ");
    while (p < line.size() && line[p] == ',') {
        ++p;
        const std::string key = read_key("=");
        if (p >= line.size()) return std::nullopt;
        ++p;
        m.tags[key] = read_key(", ");
    }
    if (p >= line.size() || line[p] != ' ') return std::nullopt;
    ++p;
    while (true) {
        const std::string key = read_key("=");
        if (p >= line.size()) return std::nullopt;
        ++p;
        std::string value;
        if (p < line.size() && line[p] == '"') {
            ++p;
            while (true) {
                if (p >= line.size()) return std::nullopt;
                if (line[p] == '\\' && p + 1 < line.size() &&
                    (line[p + 1] == '"' || line[p + 1] == '\\'))
                    ++p;
                else if (line[p] == '"')
                    break;
                value += line[p++];
            }
            ++p;
        } else {
            value = read_key(", ");
            if (!value.empty() && (value.back() == 'i' || value.back() == 'u')) value.pop_back();
        }
        m.fields[key] = value;
        if (p < line.size() && line[p] == ',') {
            ++p;
            continue;
        }
        break;
    }
    return m;
}

// Telegraf's structured-data fields: "<SD-ID>_<PARAM-NAME>" = value (\" \\ \] unescaped),
// "<SD-ID>" = true for an element without parameters. Rendered as sorted "key=value" lines.
std::string telegraf_sd(const std::string &sd) {
    std::map<std::string, std::string> fields;
    size_t p = 0;
    while (p < sd.size() && sd[p] == '[') {
        ++p;
        const size_t id_end = std::min(sd.find_first_of(" ]", p), sd.size());
        const std::string id = sd.substr(p, id_end - p);
        p = id_end;
        bool params = false;
        while (p < sd.size() && sd[p] == ' ') {
            ++p;
            const size_t eq = std::min(sd.find('=', p), sd.size());
            const std::string name = sd.substr(p, eq - p);
            p = eq + 1;
            if (p < sd.size() && sd[p] == '"') ++p;
            std::string value;
            while (p < sd.size() && sd[p] != '"') {
                if (sd[p] == '\\' && p + 1 < sd.size() &&
                    (sd[p + 1] == '"' || sd[p + 1] == '\\' || sd[p + 1] == ']')) {
                    ++p;
                }
                value += sd[p++];
            }
            ++p;  // closing quote
            fields[id + "_" + name] = value;
            params = true;
        }
        if (!params) fields[id] = "true";
        if (p < sd.size() && sd[p] == ']') ++p;
    }
    std::string out;
    for (const auto &[k, v] : fields) out += k + "=" + v + "\n";
    return out;
}

const std::set<std::string> kTelegrafFields = {"facility_code", "severity_code", "message", "msgid",
                                               "procid",        "timestamp",     "version"};

// The compared view of a Telegraf metric: absent fields are empty, SD fields folded into one.
Fields telegraf_expected(const Metric &m) {
    Fields f;
    for (const char *tag : {"facility", "severity", "hostname", "appname"}) {
        f[tag] = m.tags.count(tag) ? m.tags.at(tag) : "";
    }
    for (const std::string &name : kTelegrafFields)
        f[name] = m.fields.count(name) ? m.fields.at(name) : "";
    std::string sd;
    for (const auto &[k, v] : m.fields) {
        if (kTelegrafFields.count(k) == 0) sd += k + "=" + v + "\n";
    }
    f["structured_data"] = sd;
    return f;
}

Fields telegraf_view(const ParsedSyslog &p) {
    const bool rfc5424 = p.d.format == static_cast<uint8_t>(wire::SyslogFormat::kRfc5424);
    return Fields{
        {"facility", event::facility_name(p.facility())},
        {"severity", event::severity_name(p.severity())},
        {"hostname", p.hostname},
        {"appname", p.appname},
        {"facility_code", std::to_string(p.facility())},
        {"severity_code", std::to_string(p.severity())},
        {"message", p.message},
        {"msgid", p.msgid},
        {"procid", p.procid},
        {"timestamp", has_timestamp(p) ? std::to_string(p.d.timestamp_ns) : ""},
        {"version", rfc5424 ? std::to_string(p.d.version) : ""},
        {"structured_data", telegraf_sd(p.structured_data)},
    };
}

TEST(SyslogCorpus, TelegrafTestcases) {
    CorpusCheck check(kTelegrafDir + "/");
    const std::vector<std::string> cases = sorted_entries(kCorpus / kTelegrafDir, true);
    ASSERT_FALSE(cases.empty()) << (kCorpus / kTelegrafDir);
    for (const std::string &name : cases) {
        const fs::path dir = kCorpus / kTelegrafDir / name;
        const std::string source = kTelegrafDir + "/" + name + "/input.txt";
        check.begin_file(source);
        const ParsedSyslog p = parse_message(read_file(dir / "input.txt"));
        if (fs::exists(dir / "expected.out")) {
            const std::vector<std::string> lines = split_lines(read_file(dir / "expected.out"));
            if (lines.size() != 1) {
                check.fail(source, 0,
                           "expected.out: want one metric for one datagram, found " +
                               std::to_string(lines.size()));
                continue;
            }
            const std::optional<Metric> m = parse_line_protocol(lines[0]);
            if (!m || m->measurement != "syslog") {
                check.fail(source, 0, "cannot read expected.out " + printable(lines[0]));
                continue;
            }
            check.begin_case(source);
            const Fields expected = telegraf_expected(*m);
            const Fields ours = telegraf_view(p);
            for (const auto &[field, value] : expected)
                check.field(source, 0, field, value, ours.at(field));
        } else if (fs::exists(dir / "expected.err")) {
            // Strict mode rejects the message; we are best-effort and may still produce an event.
            check.begin_case(source);
            check.field(source, 0, "error", "malformed", p.malformed() ? "malformed" : "event");
        } else {
            check.fail(source, 0, "neither expected.out nor expected.err");
        }
    }
    check.finish();
}

// The file itself: header, four columns, a reason on every line, existing sources, no
// duplicates, and only sources these tests compare.
TEST(SyslogCorpus, KnownDifferencesFileIsWellFormed) {
    std::vector<std::string> errors;
    const auto known = load_known_differences(errors);
    for (const std::string &e : errors) ADD_FAILURE() << e;
    for (const auto &[key, reason] : known) {
        const std::string &source = std::get<0>(key);
        EXPECT_TRUE(starts_with(source, kRsyslogDir + "/") ||
                    starts_with(source, kTelegrafDir + "/"))
            << key_text(key) << ": not a source these tests compare";
    }
}

}  // namespace
}  // namespace tapsift::testing
