// syslog_parse kernel behaviour, case by case (the corpus expectations are in syslog_corpus_test).
#include <gtest/gtest.h>

#include "kernel_harness.hpp"

namespace tapsift::testing {
namespace {

constexpr int64_t kSec = 1000000000LL;

TEST(SyslogParse, Rfc5424Example1) {
    const auto p = parse_message(
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' "
        "failed");
    EXPECT_EQ(p.d.format, static_cast<uint8_t>(wire::SyslogFormat::kRfc5424));
    EXPECT_EQ(p.d.priority, 34);
    EXPECT_EQ(p.facility(), 4);
    EXPECT_EQ(p.severity(), 2);
    EXPECT_EQ(p.d.version, 1);
    EXPECT_EQ(p.d.timestamp_ns, 1065910455LL * kSec + 3000000);
    EXPECT_EQ(p.hostname, "mymachine.example.com");
    EXPECT_EQ(p.appname, "su");
    EXPECT_EQ(p.procid, "");
    EXPECT_EQ(p.msgid, "ID47");
    EXPECT_EQ(p.structured_data, "");
    EXPECT_EQ(p.message, "'su root' failed") << "the BOM is not part of the message";
}

TEST(SyslogParse, Rfc5424OffsetAndMicroseconds) {
    const auto p = parse_message(
        "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time");
    EXPECT_EQ(p.d.timestamp_ns, 1061727255LL * kSec + 3000);
    EXPECT_EQ(p.procid, "8710");
    EXPECT_EQ(p.message, "%% It's time");
    EXPECT_TRUE(p.d.has_timestamp_offset);
}

TEST(SyslogParse, Rfc5424StructuredDataWithEscapes) {
    const auto p = parse_message(
        R"(<34>1 2026-07-23T09:30:45+02:00 host app 123 msg [meta@32473 value="escaped\]bracket" quote="\""][b@1 x="y"] payload)");
    EXPECT_EQ(p.structured_data, R"([meta@32473 value="escaped\]bracket" quote="\""][b@1 x="y"])");
    EXPECT_EQ(p.message, "payload");
    EXPECT_EQ(p.d.notes & wire::kNoteBadStructuredData, 0);
}

TEST(SyslogParse, Rfc5424UnterminatedStructuredDataIsKeptAsMessage) {
    const auto p = parse_message(R"(<34>1 - host app - - [id x="never closed)");
    EXPECT_EQ(p.structured_data, "");
    EXPECT_NE(p.d.notes & wire::kNoteBadStructuredData, 0);
    EXPECT_EQ(p.message, R"([id x="never closed)");
}

// Check Point's "SD" is not RFC 5424 structured data: it must stay in the message, noted, rather
// than be half-parsed into an element whose fields are lost.
TEST(SyslogParse, Rfc5424NonConformingStructuredDataStaysInTheMessage) {
    const auto p = parse_message(
        R"(<134>1 2019-05-15T16:25:50Z HOSTNAME CheckPoint 19710 - [action:"Drop"; flags:"400644"; src:"11.22.33.77"; ])");
    EXPECT_EQ(p.structured_data, "");
    EXPECT_NE(p.d.notes & wire::kNoteBadStructuredData, 0);
    EXPECT_EQ(p.message, R"([action:"Drop"; flags:"400644"; src:"11.22.33.77"; ])");
    for (const char *bad : {"[]", "[id x]", "[id x=y]", "[id =\"v\"]", "[id x=\"v\"y]"}) {
        const auto q = parse_message(std::string("<1>1 - h a - - ") + bad);
        EXPECT_NE(q.d.notes & wire::kNoteBadStructuredData, 0) << bad;
    }
    for (const char *good : {"[a]", "[a b=\"\"]", "[a b= \"c\"]", "[a@1 b=\"c d\" e=\"\\]\"][f]"}) {
        const auto q = parse_message(std::string("<1>1 - h a - - ") + good + " m");
        EXPECT_EQ(q.structured_data, good);
        EXPECT_EQ(q.message, "m");
    }
}

TEST(SyslogParse, Rfc5424AllNil) {
    const auto p = parse_message("<13>1 - - - - - - minimal\n");
    EXPECT_EQ(p.hostname, "");
    EXPECT_EQ(p.appname, "");
    EXPECT_EQ(p.message, "minimal") << "trailing LF is trimmed";
    EXPECT_NE(p.d.notes & wire::kNoteNoTimestamp, 0);
    EXPECT_EQ(p.d.timestamp_ns, kDefaultArrivalNs) << "no timestamp: the arrival time";
}

TEST(SyslogParse, Rfc5424ThreeDigitVersion) {
    const auto p = parse_message("<191>999 2017-12-31T23:59:59.999999+00:00 h a p m - body");
    EXPECT_EQ(p.d.format, static_cast<uint8_t>(wire::SyslogFormat::kRfc5424));
    EXPECT_EQ(p.d.version, 999);
    EXPECT_EQ(p.msgid, "m");
    EXPECT_EQ(p.message, "body");
    EXPECT_EQ(parse_message("<13>0 - h a p m - body").d.format,
              static_cast<uint8_t>(wire::SyslogFormat::kRfc3164))
        << "VERSION starts with a nonzero digit";
}

// Found by fuzz_syslog_parse (tests/fuzz/regressions/syslog_parse-year-3026-overflow): the year
// 3026 overflowed int64 nanoseconds.
TEST(SyslogParse, TimestampBeyondInt64NanosecondsIsNoTimestamp) {
    const auto p = parse_message("<12>3026-07-23T09:30:45.12+02:00 host daemon: x");
    EXPECT_NE(p.d.notes & wire::kNoteNoTimestamp, 0);
    EXPECT_EQ(p.d.timestamp_ns, kDefaultArrivalNs);
    EXPECT_EQ(parse_message("<12>1 9999-12-31T23:59:59Z h a - - - x").d.timestamp_ns,
              kDefaultArrivalNs);
    EXPECT_EQ(parse_message("<12>1 2261-12-31T23:59:59Z h a - - - x").d.timestamp_ns,
              9214646399LL * kSec);
}

TEST(SyslogParse, Rfc3164Classic) {
    const auto p =
        parse_message("<34>Oct 11 22:14:15 mymachine su[77]: 'su root' failed for lonvick");
    EXPECT_EQ(p.d.format, static_cast<uint8_t>(wire::SyslogFormat::kRfc3164));
    EXPECT_EQ(p.hostname, "mymachine");
    EXPECT_EQ(p.appname, "su");
    EXPECT_EQ(p.procid, "77");
    EXPECT_EQ(p.message, "'su root' failed for lonvick");
    EXPECT_NE(p.d.notes & wire::kNoteYearInferred, 0);
}

TEST(SyslogParse, Rfc3164YearAroundNewYear) {
    // Arrival 2027-01-01T00:00:30Z: "Dec 31 23:59:50" was sent 40 s earlier, in 2026.
    const int64_t new_year = 1798761600LL * kSec;
    const auto late = parse_message("<13>Dec 31 23:59:50 h a: m", new_year + 30 * kSec);
    EXPECT_EQ(late.d.timestamp_ns, new_year - 10 * kSec);
    // Arrival 2026-12-31T23:59:50Z: "Jan  1 00:00:05" is a clock 15 s ahead, in 2027.
    const auto early = parse_message("<13>Jan  1 00:00:05 h a: m", new_year - 10 * kSec);
    EXPECT_EQ(early.d.timestamp_ns, new_year + 5 * kSec);
}

// docs/syslog-rules.md: a message is never dated later than the month after its arrival's.
TEST(SyslogParse, Rfc3164YearPrefersThePast) {
    // Arrival 2026-11-01: April is this year's (7 months back), not next year's (5 ahead).
    EXPECT_EQ(parse_message("<13>Apr  3 10:00:00 h a: m").d.timestamp_ns, 1775210400LL * kSec);
    // Arrival 2026-11-01: December is the next month, this year's.
    EXPECT_EQ(parse_message("<13>Dec 31 00:00:00 h a: m").d.timestamp_ns, 1798675200LL * kSec);
    // Arrival 2026-12-15: January is next year's; February is 2 months ahead, so this year's.
    const int64_t dec_15 = 1797292800LL * kSec;
    EXPECT_EQ(parse_message("<13>Jan 20 00:00:00 h a: m", dec_15).d.timestamp_ns,
              1800403200LL * kSec);
    EXPECT_EQ(parse_message("<13>Feb  1 00:00:00 h a: m", dec_15).d.timestamp_ns,
              1769904000LL * kSec);
}

TEST(SyslogParse, Rfc3164ConfiguredZone) {
    // Read in UTC+02:00, 12:00 local is 10:00 UTC.
    const auto p = parse_message("<13>Nov  1 12:00:00 h a: m", kDefaultArrivalNs, 2 * 3600);
    EXPECT_EQ(p.d.timestamp_ns, kDefaultArrivalNs + 10 * 3600 * kSec);
}

TEST(SyslogParse, Rfc3164TimestampVariants) {
    EXPECT_EQ(parse_message("<38>Mar 7 2008 19:06:53: example tag: m").d.timestamp_ns,
              1204916813LL * kSec);
    EXPECT_EQ(parse_message("<38> Mar  7 19:06:53 example tag: m").hostname, "example");
    EXPECT_EQ(parse_message("<6>AUG 10 22:18:24 host tag m").appname, "tag");
    const auto rfc3339 =
        parse_message("<13>2026-07-23T09:30:45.123+02:00 host daemon: timestamp variant");
    EXPECT_EQ(rfc3339.d.timestamp_ns, 1784791845LL * kSec + 123000000);
    EXPECT_EQ(rfc3339.hostname, "host");
    EXPECT_EQ(rfc3339.appname, "daemon");
}

TEST(SyslogParse, Rfc3339FractionOfAnyLengthKeepsItsOffset) {
    const auto p = parse_message("<13>1 2026-07-23T09:30:45." + std::string(40, '1') +
                                 "+02:00 host app - - - m");
    EXPECT_EQ(p.d.timestamp_ns, 1784791845LL * kSec + 111111111);
    EXPECT_EQ(p.hostname, "host");
}

// RFC 3164 §4.1.2: the HOSTNAME may be an IPv6 address, which can end in ':' like a tag.
TEST(SyslogParse, Rfc3164Ipv6Hostname) {
    const auto p = parse_message("<13>Mar  7 19:06:53 2001:db8:: sshd[42]: m");
    EXPECT_EQ(p.hostname, "2001:db8::");
    EXPECT_EQ(p.appname, "sshd");
    EXPECT_EQ(p.procid, "42");
    EXPECT_EQ(parse_message("<13>Mar  7 19:06:53 fe80::1 app: m").hostname, "fe80::1");
    // One ':' is a tag, as before.
    const auto tag = parse_message("<13>Mar  7 19:06:53 cafe: m");
    EXPECT_EQ(tag.hostname, "");
    EXPECT_EQ(tag.appname, "cafe");
}

// docs/syslog-rules.md, "Cisco IOS". Real lines from nDPI's syslog capture and syslog-ng's
// cisco-parser examples.
TEST(SyslogParse, CiscoIosSequenceAndMilliseconds) {
    // Arrival 2026-11-01: March is this year's.
    const auto p = parse_message(
        "<189>72: Mar  3 19:57:17.371: %LINK-5-CHANGED: Interface GigabitEthernet0/2, changed "
        "state to administratively down");
    EXPECT_EQ(p.d.format, static_cast<uint8_t>(wire::SyslogFormat::kCiscoIos));
    EXPECT_TRUE(p.d.has_sender_sequence);
    EXPECT_EQ(p.d.sender_sequence, 72u);
    EXPECT_EQ(p.d.timestamp_ns, 1772567837LL * kSec + 371000000);
    EXPECT_NE(p.d.notes & wire::kNoteYearInferred, 0);
    EXPECT_EQ(p.d.notes & (wire::kNoteNoTimestamp | wire::kNoteClockUnsynced), 0);
    EXPECT_EQ(p.hostname, "");
    EXPECT_EQ(p.appname, "%LINK-5-CHANGED");
    EXPECT_EQ(p.message, "Interface GigabitEthernet0/2, changed state to administratively down");
}

TEST(SyslogParse, CiscoIosOriginMarkerAndZone) {
    const auto p = parse_message(
        "<187>38: R1: *Sep 22 13:39:11.250 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state "
        "to down",
        kDefaultArrivalNs, 2 * 3600);
    EXPECT_EQ(p.d.format, static_cast<uint8_t>(wire::SyslogFormat::kCiscoIos));
    EXPECT_EQ(p.d.sender_sequence, 38u);
    EXPECT_EQ(p.hostname, "R1");
    // UTC named by the sender wins over the configured zone (+02:00).
    EXPECT_EQ(p.d.timestamp_ns, 1790084351LL * kSec + 250000000);
    EXPECT_TRUE(p.d.has_timestamp_offset);
    EXPECT_NE(p.d.notes & wire::kNoteClockUnsynced, 0) << "'*': the clock was never set";
    EXPECT_EQ(p.appname, "%LINK-3-UPDOWN");
    EXPECT_EQ(p.message, "Interface Gi0/1, changed state to down");
    // '.': no longer synchronised; another zone name is read in the configured zone.
    const auto dot = parse_message(
        "<180>782431: machine1: .Nov 18 21:03:22.631 CET: %CDP-4-NATIVE_VLAN_MISMATCH: Native "
        "VLAN mismatch discovered",
        kDefaultArrivalNs, 3600);
    EXPECT_EQ(dot.hostname, "machine1");
    EXPECT_EQ(dot.d.timestamp_ns, 1795032202LL * kSec + 631000000);
    EXPECT_FALSE(dot.d.has_timestamp_offset);
    EXPECT_NE(dot.d.notes & wire::kNoteClockUnsynced, 0);
}

TEST(SyslogParse, CiscoIosWithoutTimestampOrWithUptime) {
    const auto bare = parse_message("<189>35: %SYS-5-CONFIG_I: Configured from console");
    EXPECT_EQ(bare.d.format, static_cast<uint8_t>(wire::SyslogFormat::kCiscoIos));
    EXPECT_EQ(bare.d.sender_sequence, 35u);
    EXPECT_NE(bare.d.notes & wire::kNoteNoTimestamp, 0);
    EXPECT_EQ(bare.appname, "%SYS-5-CONFIG_I");
    EXPECT_EQ(bare.message, "Configured from console");
    // An uptime stamp is neither the origin nor a date.
    const auto uptime = parse_message("<189>12: 1d02h: %SYS-5-CONFIG_I: by console");
    EXPECT_EQ(uptime.hostname, "");
    EXPECT_NE(uptime.d.notes & wire::kNoteNoTimestamp, 0);
    EXPECT_EQ(uptime.message, "by console");
    const auto origin_uptime = parse_message("<189>13: 0.0.0.0: 00:01:23: %SYS-5-RESTART: up");
    EXPECT_EQ(origin_uptime.hostname, "0.0.0.0");
    EXPECT_EQ(origin_uptime.appname, "%SYS-5-RESTART");
    // IOS XR's FACILITY-SUBFACILITY-SEVERITY-MNEMONIC, with a year.
    const auto xr = parse_message(
        "<187>rtr: Sep 22 2026 13:39:11 UTC: %PKT_INFRA-LINK-3-UPDOWN: Interface down");
    EXPECT_EQ(xr.appname, "%PKT_INFRA-LINK-3-UPDOWN");
    EXPECT_EQ(xr.d.timestamp_ns, 1790084351LL * kSec);
    EXPECT_EQ(xr.d.notes & wire::kNoteYearInferred, 0);
    EXPECT_FALSE(xr.d.has_sender_sequence);
}

TEST(SyslogParse, CiscoIosNeedsTheMessageCode) {
    // Without "%FACILITY-SEVERITY-MNEMONIC:" the RFC 3164 reading stays.
    const auto seq_tag = parse_message("<13>12: hello world");
    EXPECT_EQ(seq_tag.d.format, static_cast<uint8_t>(wire::SyslogFormat::kRfc3164));
    EXPECT_EQ(seq_tag.appname, "12");
    for (const char *not_a_code :
         {"<13>5: %LINK-UPDOWN: x", "<13>5: %LINK-9-UPDOWN: x", "<13>5: %link-3-updown: x",
          "<13>5: %LINK-3-: x", "<13>5: R1: R2: %LINK-3-UPDOWN: x"}) {
        EXPECT_EQ(parse_message(not_a_code).d.format,
                  static_cast<uint8_t>(wire::SyslogFormat::kRfc3164))
            << not_a_code;
    }
    // A BSD header with a Cisco tag (rsyslog's PIX case) is still RFC 3164, host and tag.
    const auto pix =
        parse_message("<167>Mar  6 16:57:54 172.20.245.8 %PIX-7-710005: UDP request discarded");
    EXPECT_EQ(pix.d.format, static_cast<uint8_t>(wire::SyslogFormat::kRfc3164));
    EXPECT_EQ(pix.hostname, "172.20.245.8");
    EXPECT_EQ(pix.appname, "%PIX-7-710005");
}

TEST(SyslogParse, Rfc3164FractionOfASecond) {
    const auto p = parse_message("<13>Mar  7 19:06:53.125 host app: m");
    EXPECT_EQ(p.d.timestamp_ns % kSec, 125000000);
    EXPECT_EQ(p.hostname, "host");
}

TEST(SyslogParse, Rfc3164TagWithoutHostname) {
    const auto p = parse_message("<27>Mar  7 19:06:53 xapi: [error|xen3] Connection died");
    EXPECT_EQ(p.hostname, "");
    EXPECT_EQ(p.appname, "xapi");
    EXPECT_EQ(p.message, "[error|xen3] Connection died");
}

TEST(SyslogParse, NoPriDefaultsToUserNotice) {
    const auto p =
        parse_message("Oct 11 22:14:15 host.example app[123]: legacy message without PRI");
    EXPECT_FALSE(p.malformed());
    EXPECT_EQ(p.d.priority, 13);
    EXPECT_NE(p.d.notes & wire::kNoteNoPri, 0);
    EXPECT_EQ(p.hostname, "host.example");
    EXPECT_EQ(p.procid, "123");
}

TEST(SyslogParse, MalformedInputIsCountedNotParsed) {
    EXPECT_EQ(parse_message("").d.malformed_reason,
              static_cast<uint8_t>(wire::SyslogMalformed::kEmpty));
    for (const char *bad : {"<999>oops", "<>x", "<abc>x", "<1", "<12345>x"}) {
        const auto p = parse_message(bad);
        EXPECT_TRUE(p.malformed()) << bad;
        EXPECT_EQ(p.d.malformed_reason, static_cast<uint8_t>(wire::SyslogMalformed::kBadPri))
            << bad;
    }
    EXPECT_FALSE(parse_message("<0>x").malformed());
    EXPECT_FALSE(parse_message("<191>x").malformed());
}

TEST(SyslogParse, NulBytesAndInvalidUtf8StayInsideTheMessage) {
    static const char kMsg[] = "<13>Jan  1 00:00:00 host app: a\0b\xff\xfe end";
    static const char kBody[] = "a\0b\xff\xfe end";
    const auto p = parse_message(std::string(kMsg, sizeof kMsg - 1));
    EXPECT_FALSE(p.malformed());
    EXPECT_EQ(p.message, std::string(kBody, sizeof kBody - 1));
}

TEST(SyslogParse, LargestDatagramParsesAndSpansStayInside) {
    std::string big = "<13>Jan  1 00:00:00 host app: ";
    big.resize(65535, 'A');
    const auto p = parse_message(big);
    EXPECT_EQ(p.appname, "app");
    EXPECT_EQ(p.message.size(), 65535u - 30);
}

TEST(SyslogParse, SpacesAcrossBeatBoundaries) {
    // The hostname ends exactly at beat boundaries: the space mask must carry over beats.
    for (size_t host_len = 40; host_len < 140; ++host_len) {
        const std::string host(host_len, 'h');
        const auto p = parse_message("<13>Jan  1 00:00:00 " + host + " app: m");
        ASSERT_EQ(p.hostname, host) << host_len;
        ASSERT_EQ(p.appname, "app") << host_len;
    }
}

TEST(SyslogParse, BatchesKeepRecordOrder) {
    std::vector<std::string> msgs;
    for (int i = 0; i < 600; ++i)
        msgs.push_back("<13>Jan  1 00:00:00 host" + std::to_string(i) + " app: m");
    const auto parsed = parse_messages(msgs);
    ASSERT_EQ(parsed.size(), msgs.size());
    for (int i = 0; i < 600; ++i)
        EXPECT_EQ(parsed[static_cast<size_t>(i)].hostname, "host" + std::to_string(i));
}

TEST(SyslogParse, TruncatedFlagBecomesANote) {
    const auto p = parse_messages({"<13>Jan  1 00:00:00 host app: m"}, kDefaultArrivalNs, 0,
                                  wire::kRecordTruncated);
    EXPECT_NE(p.front().d.notes & wire::kNoteTruncated, 0);
}

}  // namespace
}  // namespace tapsift::testing
