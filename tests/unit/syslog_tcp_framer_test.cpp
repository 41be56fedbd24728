#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "syslog_tcp_framer.hpp"

namespace tapsift::dataplane {
namespace {

struct Collect final : SyslogTcpFrameSink {
    std::vector<std::string> messages;
    void on_message(const uint8_t *data, size_t len) override {
        messages.emplace_back(reinterpret_cast<const char *>(data), len);
    }
};

void feed(SyslogTcpFramer &f, const std::string &s, Collect &out) {
    f.feed(reinterpret_cast<const uint8_t *>(s.data()), s.size(), out);
}

// Every byte fed is framed, skipped, cut, dropped as oversize, or still pending.
void expect_bytes_accounted(const SyslogTcpFramer &f, uint64_t fed) {
    const auto &c = f.counters();
    EXPECT_EQ(fed, c.framed_bytes + c.skipped_bytes + c.cut_bytes + c.oversize_bytes + f.pending());
}

std::string octet(const std::string &msg) {
    return std::to_string(msg.size()) + " " + msg;
}

const std::string kA = "<13>Oct 11 22:14:15 host app: first";
const std::string kB = "<14>Oct 11 22:14:16 host app: second with \n inside";
const std::string kC = "<15>Oct 11 22:14:17 host app: third";

TEST(SyslogTcpFramer, OctetCountingInOneSegmentKeepsEmbeddedLf) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string stream = octet(kA) + octet(kB) + octet(kC);
    feed(f, stream, out);
    EXPECT_EQ(f.framing(), SyslogTcpFraming::kOctetCounting);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kB, kC}));
    EXPECT_EQ(f.counters().messages, 3u);
    expect_bytes_accounted(f, stream.size());
    EXPECT_EQ(f.pending(), 0u);
}

TEST(SyslogTcpFramer, NonTransparentLfAndNul) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string stream = kA + "\n" + kC + std::string(1, '\0') + kA + "\n";
    feed(f, stream, out);
    EXPECT_EQ(f.framing(), SyslogTcpFraming::kNonTransparent);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC, kA}));
    expect_bytes_accounted(f, stream.size());
}

TEST(SyslogTcpFramer, ByteAtATimeGivesTheSameMessages) {
    for (const bool octets : {true, false}) {
        SyslogTcpFramer f(8192, true);
        Collect out;
        const std::string stream =
            octets ? octet(kA) + octet(kB) + octet(kC) : kA + "\n" + kC + "\n";
        for (const char c : stream) feed(f, std::string(1, c), out);
        const auto want =
            octets ? std::vector<std::string>{kA, kB, kC} : std::vector<std::string>{kA, kC};
        EXPECT_EQ(out.messages, want);
        expect_bytes_accounted(f, stream.size());
    }
}

TEST(SyslogTcpFramer, GapCutsThePendingMessageAndResyncsOctetCounting) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string first = octet(kA) + octet(kB).substr(0, 10);
    feed(f, first, out);
    f.gap();  // the rest of kB's frame was lost, then part of kC's frame: "...third" lands first
    const std::string after = "ird junk " + octet(kC) + octet(kA);
    feed(f, after, out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC, kA}));
    EXPECT_EQ(f.counters().cut_messages, 1u);
    EXPECT_EQ(f.counters().cut_bytes, 10u);
    EXPECT_EQ(f.counters().resyncs, 1u);
    EXPECT_EQ(f.counters().skipped_bytes, 9u);
    expect_bytes_accounted(f, first.size() + after.size());
}

TEST(SyslogTcpFramer, GapInNonTransparentNeverMergesTwoMessages) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string first = kA + "\n" + kC.substr(0, 12);
    feed(f, first, out);
    f.gap();
    const std::string after = "tail of a lost message\n" + kC + "\n";
    feed(f, after, out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));
    EXPECT_EQ(f.counters().cut_messages, 1u);
    EXPECT_EQ(f.counters().skipped_bytes, 23u);
    expect_bytes_accounted(f, first.size() + after.size());
}

TEST(SyslogTcpFramer, MidStreamStartPicksUpAtTheFirstBoundary) {
    for (const bool octets : {true, false}) {
        SyslogTcpFramer f(8192, false);
        Collect out;
        const std::string stream = octets ? "app: end of an earlier one" + octet(kA) + octet(kC)
                                          : "app: end of an earlier one\n" + kA + "\n" + kC + "\n";
        feed(f, stream, out);
        EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));
        EXPECT_EQ(f.framing(),
                  octets ? SyslogTcpFraming::kOctetCounting : SyslogTcpFraming::kNonTransparent);
        EXPECT_EQ(f.counters().resyncs, 0u);  // a first sync, not a resync
        expect_bytes_accounted(f, stream.size());
    }
}

TEST(SyslogTcpFramer, MidStreamStartAtAFrameHeaderKeepsItsFirstMessage) {
    // An idle-expired connection, or one seen after the gateway started, usually resumes at a
    // message: nothing is skipped.
    for (const bool octets : {true, false}) {
        SyslogTcpFramer f(8192, false);
        Collect out;
        const std::string stream = octets ? octet(kA) + octet(kC) : kA + "\n" + kC + "\n";
        // A byte at a time: the header is recognised only once enough of it has arrived.
        for (const char c : stream) feed(f, std::string(1, c), out);
        EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));
        EXPECT_EQ(f.counters().skipped_bytes, 0u);
        expect_bytes_accounted(f, stream.size());
    }
}

TEST(SyslogTcpFramer, MidStreamStartAtALessThanThatIsNoPriIsSkipped) {
    SyslogTcpFramer f(8192, false);
    Collect out;
    const std::string stream = "<b>bold</b> end of an earlier one\n" + kA + "\n";
    feed(f, stream, out);
    EXPECT_EQ(out.messages, std::vector<std::string>{kA});
    EXPECT_EQ(f.counters().skipped_bytes, stream.size() - kA.size() - 1);
}

TEST(SyslogTcpFramer, AfterAGapAFrameHeaderResumesAtOnce) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string first = octet(kA) + octet(kB).substr(0, 10);
    feed(f, first, out);
    f.gap();  // the rest of kB's frame was lost; the next segment starts with kC's frame
    const std::string after = octet(kC);
    feed(f, after, out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));
    EXPECT_EQ(f.counters().cut_messages, 1u);
    EXPECT_EQ(f.counters().resyncs, 1u);
    EXPECT_EQ(f.counters().skipped_bytes, 0u);
    expect_bytes_accounted(f, first.size() + after.size());
}

TEST(SyslogTcpFramer, BadOctetHeaderResyncs) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    const std::string stream = octet(kA) + "12x junk " + octet(kC);
    feed(f, stream, out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));
    EXPECT_EQ(f.counters().bad_headers, 1u);
    EXPECT_EQ(f.counters().resyncs, 1u);
    expect_bytes_accounted(f, stream.size());
}

TEST(SyslogTcpFramer, OversizeMessagesAreDroppedWholeAndBufferStaysBounded) {
    SyslogTcpFramer f(64, true);
    Collect out;
    const std::string big(1000, 'x');
    const std::string stream = octet("<13>" + big) + octet(kA);
    for (size_t i = 0; i < stream.size(); i += 100) feed(f, stream.substr(i, 100), out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA}));
    EXPECT_EQ(f.counters().oversize_messages, 1u);
    expect_bytes_accounted(f, stream.size());

    SyslogTcpFramer g(64, true);
    Collect out2;
    const std::string lines = "<13>" + big + "\n" + kA + "\n";
    for (size_t i = 0; i < lines.size(); i += 7) {
        feed(g, lines.substr(i, 7), out2);
        EXPECT_LE(g.pending(), 64u + 12u);
    }
    EXPECT_EQ(out2.messages, (std::vector<std::string>{kA}));
    EXPECT_EQ(g.counters().oversize_messages, 1u);
    expect_bytes_accounted(g, lines.size());
}

TEST(SyslogTcpFramer, ABufferNeverGrowsPastTheLargestMessage) {
    // A message of nearly 64 KiB in 1460-byte segments: the buffer's allocation stays within
    // the message and its header (a vector doubling from 64 KiB would reach 128 KiB).
    constexpr size_t kMax = 65535;
    SyslogTcpFramer f(kMax, true);
    Collect out;
    const std::string msg = "<13>" + std::string(kMax - 4, 'x');
    const std::string stream = octet(msg) + octet(kA);
    for (size_t i = 0; i < stream.size(); i += 1460) {
        feed(f, stream.substr(i, 1460), out);
        EXPECT_LE(f.buffer_capacity(), kMax + 12u);
    }
    EXPECT_EQ(out.messages, (std::vector<std::string>{msg, kA}));
    expect_bytes_accounted(f, stream.size());
}

TEST(SyslogTcpFramer, ALineEndingJustPastTheLimitIsDroppedWhole) {
    SyslogTcpFramer f(64, true);
    Collect out;
    const std::string stream = "<13>" + std::string(66, 'y') + "\n" + kA + "\n";
    feed(f, stream, out);  // found in one buffer, delimiter within the resync tail (fuzz)
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA}));
    EXPECT_EQ(f.counters().oversize_messages, 1u);
    expect_bytes_accounted(f, stream.size());
}

TEST(SyslogTcpFramer, FinishEmitsAnUnterminatedLineAndCutsAPartialOctetFrame) {
    SyslogTcpFramer f(8192, true);
    Collect out;
    feed(f, kA + "\n" + kC, out);
    f.finish(out);
    EXPECT_EQ(out.messages, (std::vector<std::string>{kA, kC}));

    SyslogTcpFramer g(8192, true);
    Collect out2;
    const std::string stream = octet(kA) + octet(kC).substr(0, 20);
    feed(g, stream, out2);
    g.finish(out2);
    EXPECT_EQ(out2.messages, (std::vector<std::string>{kA}));
    EXPECT_EQ(g.counters().cut_messages, 1u);
    expect_bytes_accounted(g, stream.size());
}

}  // namespace
}  // namespace tapsift::dataplane
