// CEF/LEEF parsing (host/event/cef_leef.cpp) against two third-party corpora
// (tests/corpus/SOURCES.md) and hand-written cases:
//   * jcustenborder/cef-parser's 90 MessageNNNN.json cases (cef-parser-messages/): every header
//     field and every extension key and value is compared with "expected" (its timestamp and
//     host belong to the syslog header, parsed elsewhere, and are not compared);
//   * Wazuh's F5 BIG-IP ASM samples (wazuh/f5_big_ip.ini): CEF inside syslog, with "\=" and
//     "\r\n" escapes in long header dumps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "event/cef_leef.hpp"
#include "event/json_writer.hpp"

namespace tapsift::event {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus{TAPSIFT_TEST_CORPUS};

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// ---------------------------------------------------------------------------------------------
// A JSON reader just big enough for the corpus files: objects, strings, numbers; no arrays.
// ---------------------------------------------------------------------------------------------

struct Json {
    std::string text;  // a string's value, or a number's digits
    std::map<std::string, Json> members;
    bool is_object = false;

    const Json &at(const std::string &key) const {
        const auto it = members.find(key);
        if (it == members.end()) throw std::runtime_error("no member " + key);
        return it->second;
    }
};

class JsonReader {
  public:
    explicit JsonReader(std::string_view s) : s_(s) {}

    Json document() {
        Json v = value();
        skip_space();
        if (i_ != s_.size()) fail("trailing text");
        return v;
    }

  private:
    [[noreturn]] void fail(const std::string &what) const {
        throw std::runtime_error("JSON: " + what + " at byte " + std::to_string(i_));
    }
    void skip_space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
            ++i_;
    }
    char peek() {
        skip_space();
        if (i_ == s_.size()) fail("unexpected end");
        return s_[i_];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected ") + c);
        ++i_;
    }
    Json value() {
        const char c = peek();
        Json v;
        if (c == '{') {
            v.is_object = true;
            ++i_;
            if (peek() == '}') {
                ++i_;
                return v;
            }
            for (;;) {
                const std::string key = string();
                expect(':');
                v.members[key] = value();
                if (peek() == '}') {
                    ++i_;
                    return v;
                }
                expect(',');
            }
        }
        if (c == '"') {
            v.text = string();
            return v;
        }
        const size_t begin = i_;
        while (i_ < s_.size() &&
               (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' || s_[i_] == '.'))
            ++i_;
        if (i_ == begin) fail("unsupported value");
        v.text = s_.substr(begin, i_ - begin);
        return v;
    }
    std::string string() {
        expect('"');
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c == '\\') {
                if (i_ == s_.size()) fail("open escape");
                switch (const char e = s_[i_++]) {
                    case 'n':
                        c = '\n';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case '"':
                    case '\\':
                    case '/':
                        c = e;
                        break;
                    default:  // \uXXXX, \b, \f: not in the corpus
                        fail(std::string("unsupported escape \\") + e);
                }
            }
            out += c;
        }
        expect('"');
        return out;
    }

    std::string_view s_;
    size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// jcustenborder/cef-parser corpus
// ---------------------------------------------------------------------------------------------

// Every difference between our parse and "expected", as "field: ours != expected" lines.
std::vector<std::string> differences(const SecEvent &e, const Json &expected) {
    std::vector<std::string> diffs;
    const auto compare = [&](const std::string &field, const std::string &ours) {
        const std::string &want = expected.at(field).text;
        if (ours != want) diffs.push_back(field + ": '" + ours + "' != '" + want + "'");
    };
    compare("cefVersion", std::to_string(e.version));
    compare("deviceVendor", e.vendor);
    compare("deviceProduct", e.product);
    compare("deviceVersion", e.device_version);
    compare("deviceEventClassId", e.event_class_id);
    compare("name", e.name);
    compare("severity", e.severity);
    std::map<std::string, std::string> ours;
    for (const auto &[k, v] : e.extensions) ours[k] = v;
    const auto &want = expected.at("extensions").members;
    for (const auto &[k, v] : want) {
        const auto it = ours.find(k);
        if (it == ours.end()) {
            diffs.push_back("extensions." + k + ": missing");
        } else if (it->second != v.text) {
            diffs.push_back("extensions." + k + ": '" + it->second + "' != '" + v.text + "'");
        }
    }
    for (const auto &[k, v] : ours) {
        if (want.count(k) == 0) diffs.push_back("extensions." + k + ": extra '" + v + "'");
    }
    return diffs;
}

TEST(CefCorpus, AgreesWithCefParserExpectedOutputs) {
    const fs::path dir = kCorpus / "cef-parser-messages";
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_EQ(files.size(), 90u);

    size_t agree = 0;
    SecEvent e;  // reused, as the pipeline does
    for (const fs::path &file : files) {
        SCOPED_TRACE(file.filename().string());
        const Json doc = JsonReader(read_file(file)).document();
        std::string error;
        if (!parse_cef_leef(doc.at("input").text, e, &error)) {
            ADD_FAILURE() << "not parsed: " << error;
            continue;
        }
        EXPECT_EQ(e.format, SecFormat::kCef);
        const std::vector<std::string> diffs = differences(e, doc.at("expected"));
        for (const std::string &d : diffs) ADD_FAILURE() << d;
        if (diffs.empty()) ++agree;
    }
    std::cout << "cef-parser corpus: " << agree << " of " << files.size() << " cases agree\n";
    EXPECT_EQ(agree, files.size());
}

// ---------------------------------------------------------------------------------------------
// Wazuh F5 BIG-IP ASM samples
// ---------------------------------------------------------------------------------------------

// The raw logs of the "log N pass = <raw>" lines that carry CEF.
std::vector<std::string> wazuh_cef_logs() {
    std::istringstream in(read_file(kCorpus / "wazuh" / "f5_big_ip.ini"));
    std::vector<std::string> logs;
    for (std::string line; std::getline(in, line);) {
        const size_t eq = line.find(" pass = ");
        if (line.rfind("log ", 0) == 0 && eq != std::string::npos &&
            line.find("CEF:") != std::string::npos) {
            logs.push_back(line.substr(eq + 8));
        }
    }
    return logs;
}

std::string ext(const SecEvent &e, std::string_view key) {
    const std::string *v = e.field(key);
    return v ? *v : "<absent " + std::string(key) + ">";
}

TEST(CefWazuhF5, AsmEventsInsideSyslog) {
    const std::vector<std::string> logs = wazuh_cef_logs();
    ASSERT_EQ(logs.size(), 7u);
    // Extension counts: 45 and 40 for the full-request events, fewer for the anomaly ones.
    const size_t kExtensions[] = {45, 45, 40, 40, 24, 19, 21};
    const char *const kProducts[] = {"ASM",           "ASM",           "ASM",          "ASM",
                                     "componentName", "componentName", "componentName"};
    std::vector<SecEvent> events(logs.size());
    for (size_t i = 0; i < logs.size(); ++i) {
        SCOPED_TRACE("log " + std::to_string(i));
        std::string error;
        ASSERT_TRUE(parse_cef_leef(logs[i], events[i], &error)) << error;
        EXPECT_EQ(events[i].format, SecFormat::kCef);
        EXPECT_EQ(events[i].version, 0);
        EXPECT_EQ(events[i].vendor, "F5");
        EXPECT_EQ(events[i].product, kProducts[i]);
        EXPECT_EQ(events[i].extensions.size(), kExtensions[i]);
        EXPECT_EQ(events[i].extensions.front().first, "dvchost");  // "|2| dvchost=": SP skipped
    }

    // "ASM: CEF:0|F5|ASM|14.1.2|Illegal HTTP status in response|...": src, dst, act, and cs3,
    // a request dump with "\r\n" (CR LF) and "\=" escapes. "#015" is rsyslog's escaped CR,
    // literal text.
    const SecEvent &illegal = events[0];
    EXPECT_EQ(illegal.device_version, "14.1.2");
    EXPECT_EQ(illegal.event_class_id, "Illegal HTTP status in response");
    EXPECT_EQ(illegal.name, "Illegal HTTP status in response");
    EXPECT_EQ(illegal.severity, "2");
    EXPECT_EQ(ext(illegal, "src"), "00.00.00.00");
    EXPECT_EQ(ext(illegal, "dst"), "111.1111.11.1");
    EXPECT_EQ(ext(illegal, "act"), "alerted");
    EXPECT_EQ(ext(illegal, "deviceCustomDate1"), "May 03 2021 16:57:44");
    EXPECT_EQ(ext(illegal, "c6a1"), "");
    EXPECT_EQ(ext(illegal, "cs3Label"), "full_request");
    const std::string &cs3 = ext(illegal, "cs3");
    EXPECT_EQ(cs3.rfind("GET /other/path HTTP/1.1\r\nHost: some.host\r\nConnection: keep-alive\r\n"
                        "sec-ch-ua: \" Not A;Brand\";v=\"99\", \"Chromium\";v=\"90\"",
                        0),
              0u)
        << cs3;
    EXPECT_NE(cs3.find("Accept: application/json, text/javascript, */*; q=0.01\r\n"),
              std::string::npos);
    EXPECT_NE(cs3.find("Cookie: _atl_bitbucket_remember_me=M2ExMjNi"), std::string::npos);
    EXPECT_EQ(cs3.find('\\'), std::string::npos);
    const std::string kTail = "X-Forwarded-For: 00.0.000.110\r\n\r\n#015";
    ASSERT_GE(cs3.size(), kTail.size());
    EXPECT_EQ(cs3.substr(cs3.size() - kTail.size()), kTail);

    const SecEcs ecs = sec_ecs(illegal);
    EXPECT_EQ(ecs.source_ip, "00.00.00.00");
    EXPECT_EQ(ecs.source_port, "59270");
    EXPECT_EQ(ecs.source_user, "N/A");
    EXPECT_EQ(ecs.destination_ip, "111.1111.11.1");
    EXPECT_EQ(ecs.destination_port, "443");
    EXPECT_EQ(ecs.event_action, "alerted");
    EXPECT_EQ(ecs.network_protocol, "HTTPS");
    EXPECT_EQ(ecs.url_original, "/some/path");
    EXPECT_EQ(ecs.http_request_method, "GET");

    // A request with many "\=" that must not start new keys.
    const SecEvent &sqli = events[1];
    EXPECT_EQ(sqli.event_class_id, "200002273");
    EXPECT_EQ(sqli.name, "SQL-INJ exec()");
    EXPECT_EQ(ext(sqli, "src"), "167.71.70.165");
    EXPECT_EQ(ext(sqli, "act"), "blocked");
    EXPECT_EQ(ext(sqli, "request"),
              "/solr/atom/select?q=1&&wt=velocity&v.template=custom&v.template.custom=%23set($x=%"
              "27%27)+%23set($rt=$x.class.forName(%27java.lang.Runtime%27))+%23set($chr=$x.class."
              "forName(%27java.lang.Character%27))+%23set($str=$x.class.forName(%27java.lang."
              "String%27))+%23set($ex=$rt.getRuntime().exec(%27cat%20/etc/passwd%27))+$ex."
              "waitFor()+%23set($out=$ex.getInputStream())+%23foreach($i+in+[1..$out.available()]"
              ")$str.valueOf($chr.toChars($out.read()))%23end");

    // "ASM:CEF:0" without a SP, and a name with quotes.
    EXPECT_EQ(ext(events[2], "dvchost"), "bigip-4.pme-ds.f5.com");
    EXPECT_EQ(ext(events[2], "act"), "passed");
    EXPECT_EQ(ext(events[2], "cs3"),
              "GET / HTTP/1.0\r\nUser-Agent: Wget/1.12 (linux-gnu)\r\nAccept: */*\r\nHost: "
              "10.4.1.200\r\nConnection: Keep-Alive\r\n\r\n");
    EXPECT_EQ(events[3].name, "Automated client access \"wget\"");
    EXPECT_EQ(ext(events[3], "act"), "blocked");

    // The anomaly events end with a value, with no SP after it.
    EXPECT_EQ(ext(events[4], "cn2Label"), "dropped_requests");
    EXPECT_EQ(ext(events[5], "rt"), "componentName");
    EXPECT_EQ(ext(events[6], "cn4"), "%u");
    EXPECT_EQ(ext(events[6], "cn4Label"), "violation_counter");
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases
// ---------------------------------------------------------------------------------------------

SecEvent parsed(std::string_view message) {
    SecEvent e;
    std::string error;
    EXPECT_TRUE(parse_cef_leef(message, e, &error)) << message << ": " << error;
    EXPECT_EQ(error, "");
    return e;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string sec_json(const SecEvent &e) {
    std::string out;
    {
        JsonWriter w(out);
        w.begin_object();
        write_sec_object(w, e);
        w.end_object();
    }
    return out;
}

TEST(Cef, HeaderEscapes) {
    const SecEvent e = parsed(R"(CEF:0|Ven\|dor|Pro\\duct|1\2|id|a \| b \\| c|5|)");
    EXPECT_EQ(e.vendor, "Ven|dor");
    EXPECT_EQ(e.product, R"(Pro\duct)");
    EXPECT_EQ(e.device_version, R"(1\2)");  // not an escape: kept
    EXPECT_EQ(e.name, R"(a | b \)");        // "\\" then an unescaped '|' ends the field
    EXPECT_EQ(e.severity, " c");
    EXPECT_TRUE(e.extensions.empty());  // "5|": no key=
}

TEST(Cef, ExtensionEscapes) {
    const SecEvent e = parsed(R"(CEF:0|V|P|1|id|n|3|msg=a\=b c\\d e\nf\rg\|h\x )"
                              R"(cs1=C:\\Windows\\ request=http://h/?a=b&c=d)");
    EXPECT_EQ(e.extensions, (Pairs{{"msg", "a=b c\\d e\nf\rg\\|h\\x"},
                                   {"cs1", "C:\\Windows\\"},
                                   {"request", "http://h/?a=b&c=d"}}));
}

TEST(Cef, ValueBoundariesAndSpaces) {
    const SecEvent e = parsed(
        "CEF:1|V|P|1|id|n|High|   src=10.0.0.1   dst=10.0.0.2 msg= two  words  ad.key[0]=x "
        "cs1-x=y empty= last=z  \r\n");
    EXPECT_EQ(e.version, 1);
    EXPECT_EQ(e.severity, "High");
    EXPECT_EQ(e.extensions, (Pairs{{"src", "10.0.0.1"},
                                   {"dst", "10.0.0.2"},
                                   {"msg", " two  words"},  // leading SPs are data
                                   {"ad.key[0]", "x"},
                                   {"cs1-x", "y"},
                                   {"empty", ""},
                                   {"last", "z"}}));
}

TEST(Cef, TextBeforeTheFirstKeyIsSkipped) {
    EXPECT_EQ(parsed("CEF:0|V|P|1|id|n|3|no key here src=1").extensions, (Pairs{{"src", "1"}}));
    EXPECT_TRUE(parsed("CEF:0|V|P|1|id|n|3|no key here").extensions.empty());
}

TEST(Cef, PrefixesBeforeTheHeader) {
    for (const char *m : {"ASM: CEF:0|V|P|1|id|n|3|src=1", "hostname CEF:0|V|P|1|id|n|3|src=1",
                          "<134>1 2024-01-02T03:04:05Z host app - - - CEF:0|V|P|1|id|n|3|src=1",
                          "CEF:x CEF:9|a LEEF:3.0|b CEF:0|V|P|1|id|n|3|src=1"}) {
        const SecEvent e = parsed(m);
        EXPECT_EQ(e.format, SecFormat::kCef) << m;
        EXPECT_EQ(e.vendor, "V") << m;
        EXPECT_EQ(e.extensions, (Pairs{{"src", "1"}})) << m;
    }
}

TEST(Cef, IncompleteHeaderIsAnError) {
    SecEvent e;
    std::string error;
    EXPECT_FALSE(parse_cef_leef("<13>host CEF:0|Security|threatmanager|1.0|100", e, &error));
    EXPECT_EQ(error, "CEF header has 5 of 7 fields");
    EXPECT_EQ(e.format, SecFormat::kNone);
    EXPECT_FALSE(parse_cef_leef(R"(CEF:0|a|b|c|d|e\|f)", e, &error));
    EXPECT_EQ(error, "CEF header has 6 of 7 fields");
    EXPECT_FALSE(parse_cef_leef("CEF:1|", e, &error));
    EXPECT_EQ(error, "CEF header has 2 of 7 fields");
    EXPECT_FALSE(parse_cef_leef("LEEF:1.0|V|P", e, &error));
    EXPECT_EQ(error, "LEEF header has 3 of 5 fields");
    EXPECT_FALSE(parse_cef_leef("CEF:0|a|b|c|d", e));  // no error string wanted
}

TEST(Cef, NotCefOrLeefLeavesTheErrorEmpty) {
    SecEvent e;
    std::string error = "stale";
    for (const char *m : {"", "hello world", "CEF:", "CEF: 0|V|P|1|id|n|3|", "CEF:2|V|P|1|id|n|3|",
                          "CEF:01|V", "LEEF:1.1|V|P|1|id|", "LEEF:|V", "EF:0|", "xEF:0|a"}) {
        EXPECT_FALSE(parse_cef_leef(m, e, &error)) << m;
        EXPECT_EQ(error, "") << m;
        EXPECT_EQ(e.format, SecFormat::kNone) << m;
    }
}

TEST(Cef, RepeatedKeysTheLastCounts) {
    const SecEvent e = parsed("CEF:0|V|P|1|id|n|3|src=1 dst=2 src=3");
    EXPECT_EQ(e.extensions.size(), 3u);
    EXPECT_EQ(*e.field("src"), "3");
    EXPECT_EQ(sec_ecs(e).source_ip, "3");
    EXPECT_EQ(sec_json(e),
              R"({"cef":{"version":0,"device":{"vendor":"V","product":"P","version":"1",)"
              R"("event_class_id":"id"},"name":"n","severity":"3",)"
              R"("extensions":{"dst":"2","src":"3"}}})");
}

TEST(Cef, ReusedEventKeepsNothingStale) {
    SecEvent e;
    ASSERT_TRUE(parse_cef_leef("CEF:0|V|P|1|id|n|3|a=1 b=2 c=3", e));
    ASSERT_TRUE(parse_cef_leef("LEEF:1.0|W|Q|2|ev|x=9", e));
    EXPECT_EQ(e.format, SecFormat::kLeef);
    EXPECT_EQ(e.name, "");
    EXPECT_EQ(e.severity, "");
    EXPECT_EQ(e.extensions, (Pairs{{"x", "9"}}));
    ASSERT_TRUE(parse_cef_leef("CEF:0|V|P|1|id|n|3", e));
    EXPECT_TRUE(e.extensions.empty());
}

TEST(Cef, FieldByHeaderName) {
    const SecEvent e = parsed("CEF:0|Vend|Prod|1.2|id7|Name|9|name=ext vendor=ext");
    EXPECT_EQ(*e.field("deviceVendor"), "Vend");
    EXPECT_EQ(*e.field("deviceProduct"), "Prod");
    EXPECT_EQ(*e.field("deviceVersion"), "1.2");
    EXPECT_EQ(*e.field("deviceEventClassId"), "id7");
    EXPECT_EQ(*e.field("name"), "Name");
    EXPECT_EQ(*e.field("severity"), "9");
    EXPECT_EQ(*e.field("vendor"), "ext");  // a LEEF header name: an extension for CEF
    EXPECT_EQ(e.field("src"), nullptr);
}

TEST(Cef, EcsMapping) {
    const SecEvent e = parsed(
        "CEF:0|V|P|1|id|n|3|src=192.0.2.1 spt=1234 suser=alice shost=a.example "
        "destinationAddress=198.51.100.2 dpt=443 duser=bob dhost=b.example act=blocked app=HTTPS "
        "proto=TCP request=https://b.example/x fname=x.exe sproc=curl requestMethod=POST cs1=z");
    const SecEcs ecs = sec_ecs(e);
    EXPECT_EQ(ecs.source_ip, "192.0.2.1");
    EXPECT_EQ(ecs.source_port, "1234");
    EXPECT_EQ(ecs.source_user, "alice");
    EXPECT_EQ(ecs.source_host, "a.example");
    EXPECT_EQ(ecs.destination_ip, "198.51.100.2");
    EXPECT_EQ(ecs.destination_port, "443");
    EXPECT_EQ(ecs.destination_user, "bob");
    EXPECT_EQ(ecs.destination_host, "b.example");
    EXPECT_EQ(ecs.event_action, "blocked");
    EXPECT_EQ(ecs.network_protocol, "HTTPS");
    EXPECT_EQ(ecs.network_transport, "TCP");
    EXPECT_EQ(ecs.url_original, "https://b.example/x");
    EXPECT_EQ(ecs.file_name, "x.exe");
    EXPECT_EQ(ecs.process_name, "curl");
    EXPECT_EQ(ecs.http_request_method, "POST");

    const SecEvent by_full_name = parsed(
        "CEF:0|V|P|1|id|n|3|sourceAddress=192.0.2.9 sourcePort=9 sourceUserName=u "
        "sourceHostName=h destinationPort=8 destinationUserName=d destinationHostName=e "
        "deviceAction=allow applicationProtocol=DNS transportProtocol=UDP requestUrl=/u "
        "fileName=f sourceProcessName=p");
    const SecEcs full = sec_ecs(by_full_name);  // views into by_full_name
    EXPECT_EQ(full.source_ip, "192.0.2.9");
    EXPECT_EQ(full.source_port, "9");
    EXPECT_EQ(full.source_user, "u");
    EXPECT_EQ(full.source_host, "h");
    EXPECT_EQ(full.destination_port, "8");
    EXPECT_EQ(full.destination_user, "d");
    EXPECT_EQ(full.destination_host, "e");
    EXPECT_EQ(full.event_action, "allow");
    EXPECT_EQ(full.network_protocol, "DNS");
    EXPECT_EQ(full.network_transport, "UDP");
    EXPECT_EQ(full.url_original, "/u");
    EXPECT_EQ(full.file_name, "f");
    EXPECT_EQ(full.process_name, "p");
    EXPECT_EQ(full.destination_ip, "");

    // LEEF names do not map for CEF, nor CEF names for LEEF.
    EXPECT_EQ(sec_ecs(parsed("CEF:0|V|P|1|id|n|3|srcPort=1 usrName=u")).source_port, "");
    EXPECT_EQ(sec_ecs(parsed("LEEF:1.0|V|P|1|id|spt=1\tsuser=u")).source_port, "");
    EXPECT_EQ(sec_ecs(SecEvent{}).source_ip, "");
}

TEST(Leef, Version1TabSeparated) {
    const SecEvent e = parsed(
        "<13>Jan 18 11:07:53 host LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\t"
        "dst=172.50.123.1\tsev=5\tcat=anomaly\tmsg=there are spaces in this message\t"
        "url=http://h/?a=b\tno-equals\t=nokey\t\r\n");
    EXPECT_EQ(e.format, SecFormat::kLeef);
    EXPECT_EQ(e.version, 1);
    EXPECT_EQ(e.vendor, "Microsoft");
    EXPECT_EQ(e.product, "MSExchange");
    EXPECT_EQ(e.device_version, "4.0 SP1");
    EXPECT_EQ(e.event_class_id, "15345");
    EXPECT_EQ(e.extensions, (Pairs{{"src", "192.0.2.0"},
                                   {"dst", "172.50.123.1"},
                                   {"sev", "5"},
                                   {"cat", "anomaly"},
                                   {"msg", "there are spaces in this message"},
                                   {"url", "http://h/?a=b"}}));
    EXPECT_EQ(*e.field("vendor"), "Microsoft");
    EXPECT_EQ(*e.field("product"), "MSExchange");
    EXPECT_EQ(*e.field("version"), "4.0 SP1");
    EXPECT_EQ(*e.field("eventId"), "15345");
    EXPECT_EQ(e.field("deviceVendor"), nullptr);
    EXPECT_EQ(sec_json(e),
              R"({"leef":{"version":1,"device":{"vendor":"Microsoft","product":"MSExchange",)"
              R"("version":"4.0 SP1","event_class_id":"15345"},"extensions":{"src":"192.0.2.0",)"
              R"("dst":"172.50.123.1","sev":"5","cat":"anomaly",)"
              R"("msg":"there are spaces in this message","url":"http://h/?a=b"}}})");
}

TEST(Leef, Version1HeaderOnly) {
    EXPECT_TRUE(parsed("LEEF:1.0|V|P|1|ev").extensions.empty());
    EXPECT_TRUE(parsed("LEEF:1.0|V|P|1|ev|").extensions.empty());
    EXPECT_EQ(parsed(R"(LEEF:1|V\|W|P|1|ev|)").vendor, "V|W");
}

TEST(Leef, Version2Delimiters) {
    const Pairs kWant{{"src", "10.0.1.8"}, {"dst", "10.0.0.5"}, {"sev", "5"}};
    for (const char *m : {
             "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^",
             "LEEF:2.0|Lancope|StealthWatch|1.0|41|x5E|src=10.0.1.8^dst=10.0.0.5^sev=5",
             "LEEF:2.0|Lancope|StealthWatch|1.0|41|0x5e|src=10.0.1.8^dst=10.0.0.5^sev=5\n",
             "LEEF:2.0|Lancope|StealthWatch|1.0|41||src=10.0.1.8\tdst=10.0.0.5\tsev=5",
             "LEEF:2.0|Lancope|StealthWatch|1.0|41|x09|src=10.0.1.8\tdst=10.0.0.5\tsev=5",
             // No delimiter field at all: TAB.
             "LEEF:2|Lancope|StealthWatch|1.0|41|src=10.0.1.8\tdst=10.0.0.5\tsev=5",
         }) {
        const SecEvent e = parsed(m);
        EXPECT_EQ(e.version, 2) << m;
        EXPECT_EQ(e.product, "StealthWatch") << m;
        EXPECT_EQ(e.event_class_id, "41") << m;
        EXPECT_EQ(e.extensions, kWant) << m;
    }
    // A delimiter field and nothing after it.
    EXPECT_TRUE(parsed("LEEF:2.0|V|P|1|41|^").extensions.empty());
    // Pipes are data once the delimiter is known.
    EXPECT_EQ(parsed("LEEF:2.0|V|P|1|41|;|a=x|y;b=2").extensions,
              (Pairs{{"a", "x|y"}, {"b", "2"}}));
    EXPECT_EQ(sec_json(parsed("LEEF:2.0|V|P|1|41|^|usrName=u")),
              R"({"leef":{"version":2,"device":{"vendor":"V","product":"P","version":"1",)"
              R"("event_class_id":"41"},"extensions":{"usrName":"u"}}})");
}

TEST(Leef, EcsMapping) {
    const SecEvent e = parsed(
        "LEEF:2.0|V|P|1|41|^|src=192.0.2.1^srcPort=5^dst=192.0.2.2^dstPort=6^usrName=eve^"
        "proto=UDP^url=/x");
    const SecEcs ecs = sec_ecs(e);
    EXPECT_EQ(ecs.source_ip, "192.0.2.1");
    EXPECT_EQ(ecs.source_port, "5");
    EXPECT_EQ(ecs.destination_ip, "192.0.2.2");
    EXPECT_EQ(ecs.destination_port, "6");
    EXPECT_EQ(ecs.source_user, "eve");
    EXPECT_EQ(ecs.network_transport, "UDP");
    EXPECT_EQ(ecs.url_original, "/x");
}

TEST(SecObject, NothingForANonEvent) {
    EXPECT_EQ(sec_json(SecEvent{}), "{}");
}

}  // namespace
}  // namespace tapsift::event
