// C-simulation testbench for syslog_parse (the Vitis csim entry point: main returns 0 on pass).
// Builds an ingest batch by hand, exactly as the wire format says, runs the top function and
// checks every descriptor field against golden values.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "syslog_parse.hpp"
#include "wire/descriptor.hpp"
#include "wire/ingest_batch.hpp"

using namespace tapsift;

namespace {

int failures = 0;

void expect(bool ok, const char *what, int line) {
    if (!ok) {
        std::printf("FAIL line %d: %s\n", line, what);
        ++failures;
    }
}
#define EXPECT(cond) expect((cond), #cond, __LINE__)

std::vector<hls_kernels::beat_t> make_batch(const std::vector<std::string> &msgs) {
    std::vector<uint8_t> bytes(wire::kBeatBytes);
    wire::IngestBatchHeader h{};
    h.magic = wire::kIngestMagic;
    h.version = wire::kIngestVersion;
    h.record_count = static_cast<uint32_t>(msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i) {
        wire::IngestRecordHeader r{};
        r.payload_len = static_cast<uint16_t>(msgs[i].size());
        r.kind = static_cast<uint8_t>(wire::RecordKind::kSyslog);
        r.record_index = static_cast<uint32_t>(i);
        r.arrival_ns = 1793491200ULL * 1000000000ULL;
        const size_t at = bytes.size();
        bytes.resize(at + wire::kBeatBytes * (1 + wire::payload_beats(r.payload_len)), 0);
        std::memcpy(&bytes[at], &r, sizeof r);
        std::memcpy(&bytes[at + wire::kBeatBytes], msgs[i].data(), msgs[i].size());
    }
    h.total_beats = static_cast<uint32_t>(bytes.size() / wire::kBeatBytes);
    std::memcpy(bytes.data(), &h, sizeof h);
    std::vector<hls_kernels::beat_t> beats(h.total_beats);
    for (size_t b = 0; b < beats.size(); ++b) {
        for (int i = 0; i < 64; ++i)
            beats[b].set_range(8 * i + 7, 8 * i, bytes[b * 64 + static_cast<size_t>(i)]);
    }
    return beats;
}

std::string field(const std::string &msg, wire::Span s) {
    return msg.substr(s.off, s.len);
}

}  // namespace

int main() {
    const std::vector<std::string> msgs = {
        "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
        "iut=\"3\"] An event",
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        "",
    };
    const auto in = make_batch(msgs);
    std::vector<hls_kernels::beat_t> out(msgs.size() * wire::kDescriptorBeats);
    hls_kernels::SyslogParseCounters ctr{};
    hls_kernels::syslog_parse(in.data(), out.data(), 0, &ctr);

    std::vector<wire::Descriptor> d(msgs.size());
    for (size_t r = 0; r < msgs.size(); ++r) {
        uint8_t raw[wire::kDescriptorBytes];
        for (uint32_t b = 0; b < wire::kDescriptorBeats; ++b) {
            for (int i = 0; i < 64; ++i) {
                raw[b * 64 + static_cast<uint32_t>(i)] = static_cast<uint8_t>(
                    out[r * wire::kDescriptorBeats + b].range(8 * i + 7, 8 * i));
            }
        }
        std::memcpy(&d[r], raw, sizeof raw);
    }

    EXPECT(ctr.records == 3);
    EXPECT(ctr.beats_in == 3 + 2 + 2 + 0);  // record beats + payload beats
    EXPECT(ctr.bad_batches == 0);
    EXPECT(d[0].format == static_cast<uint8_t>(wire::SyslogFormat::kRfc5424));
    EXPECT(d[0].priority == 165 && d[0].version == 1);
    EXPECT(d[0].timestamp_ns == 1065910455003000000LL);
    EXPECT(field(msgs[0], d[0].hostname) == "mymachine.example.com");
    EXPECT(field(msgs[0], d[0].appname) == "evntslog");
    EXPECT(d[0].procid.len == 0);
    EXPECT(field(msgs[0], d[0].msgid) == "ID47");
    EXPECT(field(msgs[0], d[0].structured_data) == "[exampleSDID@32473 iut=\"3\"]");
    EXPECT(field(msgs[0], d[0].message) == "An event");
    EXPECT(d[1].format == static_cast<uint8_t>(wire::SyslogFormat::kRfc3164));
    EXPECT(d[1].priority == 34);
    EXPECT(d[1].timestamp_ns == 1791756855000000000LL);  // 2026-10-11T22:14:15Z: year from arrival
    EXPECT(field(msgs[1], d[1].hostname) == "mymachine");
    EXPECT(field(msgs[1], d[1].appname) == "su");
    EXPECT(field(msgs[1], d[1].message) == "'su root' failed for lonvick on /dev/pts/8");
    EXPECT(d[2].verdict == static_cast<uint8_t>(wire::Verdict::kMalformed));
    EXPECT(d[2].record_index == 2);

    // A batch with a wrong magic is refused as a whole.
    auto bad = in;
    bad[0].set_range(31, 0, 0);
    hls_kernels::syslog_parse(bad.data(), out.data(), 0, &ctr);
    EXPECT(ctr.bad_batches == 1 && ctr.records == 3);

    std::printf("syslog_parse csim: %s (%d failure(s))\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
