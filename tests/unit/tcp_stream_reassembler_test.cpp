#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tcp_stream_reassembler.hpp"

namespace tapsift::dataplane {
namespace {

// The stream as the sink sees it, a gap written as "[gap N]".
struct Stream final : TcpByteSink {
    std::string text;
    void on_bytes(const uint8_t *data, size_t len) override {
        text.append(reinterpret_cast<const char *>(data), len);
    }
    void on_gap(uint64_t lost) override { text += "[gap " + std::to_string(lost) + "]"; }
};

constexpr uint32_t kIsn = 0xfffffff0u;  // wraps past 2^32 a few bytes in

TcpSegmentOutcome send(TcpStreamReassembler &r, Stream &s, uint32_t rel, const std::string &data,
                       bool syn = false, bool fin = false) {
    const uint32_t seq = syn ? kIsn : kIsn + 1 + rel;
    return r.add(TcpSegment{seq, syn, fin, false, reinterpret_cast<const uint8_t *>(data.data()),
                            static_cast<uint32_t>(data.size())},
                 s);
}

// Every payload byte is delivered, a duplicate, out of window, over budget, or held.
void expect_bytes_accounted(const TcpStreamReassembler &r, uint64_t payload) {
    const auto &c = r.counters();
    EXPECT_EQ(payload, c.delivered_bytes + c.duplicate_bytes + c.out_of_window_bytes +
                           c.over_budget_bytes + r.held_bytes());
}

TEST(TcpStreamReassembler, InOrderAcrossTheSequenceWrap) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    EXPECT_EQ(send(r, s, 0, "", true), TcpSegmentOutcome::kControl);
    EXPECT_EQ(send(r, s, 0, "hello, "), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(send(r, s, 7, "wrapped world"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(send(r, s, 20, "", false, true), TcpSegmentOutcome::kControl);
    EXPECT_TRUE(r.saw_syn());
    EXPECT_TRUE(r.finished());
    EXPECT_EQ(s.text, "hello, wrapped world");
    expect_bytes_accounted(r, 20);
}

TEST(TcpStreamReassembler, OutOfOrderIsHeldThenDelivered) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    send(r, s, 0, "", true);
    EXPECT_EQ(send(r, s, 10, "KLMNO"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(send(r, s, 5, "FGHIJ"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(s.text, "");
    EXPECT_EQ(r.held_bytes(), 10u);
    EXPECT_EQ(send(r, s, 0, "ABCDE"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(s.text, "ABCDEFGHIJKLMNO");
    EXPECT_EQ(r.held_bytes(), 0u);
    expect_bytes_accounted(r, 15);
}

TEST(TcpStreamReassembler, RetransmissionIsADuplicateAndSameBytesAreNoConflict) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    send(r, s, 0, "", true);
    send(r, s, 0, "ABCDE");
    EXPECT_EQ(send(r, s, 0, "ABCDE"), TcpSegmentOutcome::kDuplicate);
    EXPECT_EQ(send(r, s, 3, "DEFG"), TcpSegmentOutcome::kUsed);  // overlaps, then new bytes
    EXPECT_EQ(s.text, "ABCDEFG");
    EXPECT_EQ(r.counters().duplicate_bytes, 7u);
    EXPECT_EQ(r.counters().conflict_segments, 0u);
    expect_bytes_accounted(r, 14);
}

TEST(TcpStreamReassembler, OverlapWithDifferentBytesKeepsTheFirstCopyAndIsCounted) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    send(r, s, 0, "", true);
    send(r, s, 0, "ABCDE");
    EXPECT_EQ(send(r, s, 3, "xyFG"), TcpSegmentOutcome::kUsed);  // delivered bytes differ
    send(r, s, 10, "KLMNO");
    EXPECT_EQ(send(r, s, 8, "IJklmnoP"), TcpSegmentOutcome::kUsed);  // held bytes differ
    EXPECT_EQ(send(r, s, 6, "GH"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(s.text, "ABCDEFGHIJKLMNOP");
    EXPECT_EQ(r.counters().conflict_segments, 2u);
    expect_bytes_accounted(r, 5 + 4 + 5 + 8 + 2);
}

TEST(TcpStreamReassembler, MidStreamStartTakesTheFirstSegmentSeenAsOffsetZero) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    EXPECT_EQ(send(r, s, 1000, "middle "), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(send(r, s, 1007, "of it"), TcpSegmentOutcome::kUsed);
    EXPECT_FALSE(r.saw_syn());
    EXPECT_EQ(s.text, "middle of it");
}

TEST(TcpStreamReassembler, BudgetForcesTheGapAndFlushReportsTheRest) {
    TcpStreamReassembler r(65536, 7, 1500);
    Stream s;
    send(r, s, 0, "", true);
    send(r, s, 0, "ABC");
    send(r, s, 5, "FGHI");  // DE lost
    send(r, s, 9, "JKLM");  // over the budget of 7: the gap is skipped
    EXPECT_EQ(s.text, "ABC[gap 2]FGHIJKLM");
    send(r, s, 20, "UV");  // N..T lost
    // No room for 10 more bytes: the gap before UV is skipped, and still no room.
    EXPECT_EQ(send(r, s, 30, "0123456789"), TcpSegmentOutcome::kOverBudget);
    EXPECT_EQ(s.text, "ABC[gap 2]FGHIJKLM[gap 7]UV");
    EXPECT_EQ(send(r, s, 22, "W", false, true), TcpSegmentOutcome::kUsed);
    r.flush(s);
    EXPECT_EQ(s.text, "ABC[gap 2]FGHIJKLM[gap 7]UVW");
    EXPECT_EQ(r.counters().gaps, 2u);
    EXPECT_EQ(r.counters().gap_bytes, 9u);
    expect_bytes_accounted(r, 3 + 4 + 4 + 2 + 10 + 1);
}

TEST(TcpStreamReassembler, SegmentsBeyondTheWindowAreRefused) {
    TcpStreamReassembler r(1000, 65536, 1500);
    Stream s;
    send(r, s, 0, "", true);
    EXPECT_EQ(send(r, s, 5000, "far"), TcpSegmentOutcome::kOutOfWindow);
    EXPECT_EQ(send(r, s, 0, "near"), TcpSegmentOutcome::kUsed);
    EXPECT_EQ(s.text, "near");
    expect_bytes_accounted(r, 7);
}

TEST(TcpStreamReassembler, FlushReportsBytesLostBeforeTheFin) {
    TcpStreamReassembler r(65536, 65536, 1500);
    Stream s;
    send(r, s, 0, "", true);
    send(r, s, 0, "ABC");
    send(r, s, 6, "", false, true);
    EXPECT_FALSE(r.finished());
    r.flush(s);
    EXPECT_EQ(s.text, "ABC[gap 3]");
    EXPECT_TRUE(r.finished());
}

}  // namespace
}  // namespace tapsift::dataplane
