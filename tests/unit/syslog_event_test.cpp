#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstring>
#include <ctime>

#include "event/json_writer.hpp"
#include "event/syslog_event.hpp"
#include "kernel_harness.hpp"

namespace tapsift::event {
namespace {

wire::IngestRecordHeader from_10_1_0_15() {
    wire::IngestRecordHeader rec{};
    const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 15};
    std::memcpy(rec.src_addr, v4, 16);
    return rec;
}

std::string event_for(const std::string &msg, wire::IngestRecordHeader rec = from_10_1_0_15()) {
    const auto p = testing::parse_message(msg);
    rec.src_port = 5514;
    rec.packet_seq = 7;
    std::string out;
    assemble_syslog_event(
        rec, format_address(rec.src_addr), reinterpret_cast<const uint8_t *>(p.payload.data()), p.d,
        EventContext{"tap1", format_timestamp(1793491200LL * 1000000000LL)}, nullptr, out);
    return out;
}

TEST(SyslogEvent, EcsShapeOfAnRfc5424Event) {
    const std::string e = event_for(
        R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut="3" eventSource="App\"x\""] An application event)");
    EXPECT_EQ(
        e,
        R"({"@timestamp":"2003-10-11T22:14:15.003Z","ecs":{"version":"8.11.0"},)"
        R"("message":"An application event",)"
        R"("log":{"syslog":{"priority":165,"facility":{"code":20,"name":"local4"},)"
        R"("severity":{"code":5,"name":"notice"},"hostname":"mymachine.example.com",)"
        R"("appname":"evntslog","procid":"42","msgid":"ID47","version":"1",)"
        R"("structured_data":{"exampleSDID@32473":{"iut":"3","eventSource":"App\"x\""}}}},)"
        R"("source":{"ip":"10.1.0.15","port":5514},)"
        R"("observer":{"hostname":"tap1","type":"gateway","product":"tapsift"},)"
        R"("event":{"kind":"event","dataset":"syslog","created":"2026-11-01T00:00:00.000Z","sequence":7},)"
        R"("tapsift":{"format":"rfc5424"}})");
}

TEST(SyslogEvent, Rfc3164EventHasNoVersionAndRecordsNotes) {
    const std::string e = event_for("Oct 11 22:14:15 host app: m");
    // log.syslog.version is RFC 5424's; the only "version" here is ecs.version.
    EXPECT_EQ(e.find(R"("version":"1")"), std::string::npos) << e;
    EXPECT_NE(e.find(R"("ecs":{"version":"8.11.0"})"), std::string::npos) << e;
    EXPECT_NE(e.find(R"("notes":"no_pri,year_inferred")"), std::string::npos) << e;
}

TEST(SyslogEvent, CiscoIosFieldsAsElasticNamesThem) {
    const std::string e =
        event_for("<187>38: R1: *Sep 22 13:39:11.250 UTC: %PKT_INFRA-LINK-3-UPDOWN: Gi0/1 down");
    EXPECT_NE(e.find(R"("@timestamp":"2026-09-22T13:39:11.250Z")"), std::string::npos) << e;
    EXPECT_NE(e.find(R"("hostname":"R1","appname":"%PKT_INFRA-LINK-3-UPDOWN")"), std::string::npos)
        << e;
    EXPECT_NE(e.find(R"("code":"UPDOWN"})"), std::string::npos) << e;
    EXPECT_NE(e.find(R"("cisco":{"ios":{"sequence":38,"facility":"PKT_INFRA-LINK"}})"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find(R"("format":"cisco_ios","notes":"year_inferred,clock_unsynced")"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find(R"("message":"Gi0/1 down")"), std::string::npos) << e;
}

TEST(SyslogEvent, Ipv6Source) {
    wire::IngestRecordHeader rec{};
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::memcpy(rec.src_addr, v6, 16);
    EXPECT_NE(event_for("<13>x", rec).find(R"("source":{"ip":"2001:db8::1")"), std::string::npos);
}

TEST(JsonWriter, EscapesControlsAndReplacesInvalidUtf8) {
    std::string out;
    JsonWriter w(out);
    static const char kInput[] =
        "a\0b\"\\\n\x01 \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xff \xC0\xAF \xED\xA0\x80";
    w.string(std::string(kInput, sizeof kInput - 1));
    EXPECT_EQ(w.text(),
              "\"a\\u0000b\\\"\\\\\\n\\u0001 \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBD "
              "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_TRUE(w.had_invalid_utf8());
    std::string clean;
    JsonWriter ok(clean);
    ok.string(std::string_view("plain \xC3\xA4"));  // a literal would be copied unchecked
    EXPECT_FALSE(ok.had_invalid_utf8());
}

// The 8-byte fast path must notice a special byte wherever it sits in the word.
TEST(JsonWriter, EverySpecialByteAtEveryPositionIsEscaped) {
    for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f'}) {
        for (size_t at = 0; at < 24; ++at) {
            std::string in(24, 'a');
            in[at] = special;
            std::string out;
            JsonWriter(out).string(in);
            std::string want = "\"" + in.substr(0, at);
            if (special == '"')
                want += "\\\"";
            else if (special == '\\')
                want += "\\\\";
            else if (special == '\n')
                want += "\\n";
            else if (special == '\x7f')
                want += "\x7f";  // DEL is valid JSON as is
            else
                want += fmt::format("\\u{:04x}", special);
            want += in.substr(at + 1) + "\"";
            EXPECT_EQ(out, want) << "byte " << static_cast<int>(special) << " at " << at;
        }
    }
    std::string out;
    JsonWriter w(out);
    w.string(std::string(20, 'a') + "\xff" + std::string(20, 'b'));
    EXPECT_TRUE(w.had_invalid_utf8()) << "a high byte in the middle of a word";
}

TEST(SyslogEvent, TimestampsMatchGmtimeOverFourCenturies) {
    for (int64_t secs = -2208988800LL; secs < 7258118400LL;
         secs += 86400 * 37 + 3607) {  // 1900..2200
        const time_t t = static_cast<time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char want[32];
        std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        ASSERT_EQ(format_timestamp(secs * 1000000000LL), want) << secs;
    }
}

// The writer writes through a cursor into room it sizes ahead; out must end up holding exactly
// the text, after what it held before, however often the room grew.
TEST(JsonWriter, WritesAfterExistingTextAndLeavesExactlyTheText) {
    std::string out = "prefix:";
    std::string want = out + "[";
    {
        JsonWriter w(out);
        w.begin_array();
        for (int i = 0; i < 300; ++i) {
            const std::string s(static_cast<size_t>(i), static_cast<char>('a' + i % 26));
            w.string(s);
            want += (i ? ",\"" : "\"") + s + "\"";
            EXPECT_EQ(w.text(), want);
            EXPECT_EQ(w.size(), want.size());
        }
        w.end_array();
        want += "]";
    }
    EXPECT_EQ(out, want);
}

TEST(JsonWriter, NestedObjectsAndSeparators) {
    std::string out;
    {
        JsonWriter w(out);
        w.begin_object();
        w.key("a");
        w.number(-1);
        w.key("b");
        w.begin_object();
        w.key("c");
        w.string("d");
        w.end_object();
        w.key("e");
        w.begin_object();
        w.end_object();
        w.end_object();
    }
    EXPECT_EQ(out, R"({"a":-1,"b":{"c":"d"},"e":{}})");
}

TEST(SyslogEvent, TimestampPrecisionFollowsTheValue) {
    EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(format_timestamp(1061727255000003000LL), "2003-08-24T12:14:15.000003Z");
    EXPECT_EQ(format_timestamp(1061727255000000001LL), "2003-08-24T12:14:15.000000001Z");
    EXPECT_EQ(format_timestamp(-1000000LL), "1969-12-31T23:59:59.999Z");
}

TEST(SyslogEvent, FacilityAndSeverityNames) {
    EXPECT_STREQ(facility_name(0), "kern");
    EXPECT_STREQ(facility_name(23), "local7");
    EXPECT_STREQ(facility_name(24), "unknown");
    EXPECT_STREQ(severity_name(3), "err");
    EXPECT_STREQ(severity_name(7), "debug");
}

}  // namespace
}  // namespace tapsift::event
