// The endpoint's breakdown structures: the top-sources table (space-saving), its merge across
// lcores, the duration histogram's buckets, and the batch timer's FIFO.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>

#include "metrics/duration_histogram.hpp"
#include "metrics/top_sources.hpp"
#include "pipeline/batch_timer.hpp"

namespace tapsift {
namespace {

TopSources::Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

// What holds for any stream: the counts add up to the total, no address twice, and each count
// bounds the truth from above by at most its error.
void expect_consistent(const TopSources &t, const std::map<TopSources::Address, uint64_t> &truth) {
    uint64_t sum = 0;
    std::map<TopSources::Address, int> seen;
    for (const TopSources::Entry &e : t.entries()) {
        sum += e.count;
        EXPECT_EQ(++seen[e.address], 1) << "an address in two entries";
        const auto it = truth.find(e.address);
        const uint64_t real = it == truth.end() ? 0 : it->second;
        EXPECT_GE(e.count, real);
        EXPECT_LE(e.count - e.error, real);
    }
    EXPECT_EQ(sum, t.total());
}

TEST(TopSources, ChurnThroughASmallTableKeepsItConsistent) {
    // Half the datagrams from a few heavy sources that stay in the table, half from many light
    // ones that keep replacing each other (each replacement deletes a slot of the hash index,
    // which must not cut a heavy source's probe run).
    for (size_t capacity : {1u, 4u, 37u, 200u}) {
        TopSources t(capacity);
        std::map<TopSources::Address, uint64_t> truth;
        std::mt19937 rng(static_cast<uint32_t>(capacity));
        const uint32_t heavy = static_cast<uint32_t>(std::max<size_t>(1, capacity / 2));
        for (int i = 0; i < 50000; ++i) {
            const uint32_t r = rng() % 2 ? rng() % heavy : heavy + rng() % 3000;
            const TopSources::Address a = v4(10, static_cast<uint8_t>(r >> 8),
                                             static_cast<uint8_t>(r), static_cast<uint8_t>(r % 7));
            t.count(a.data());
            truth[a]++;
        }
        EXPECT_EQ(t.entries().size(), capacity);
        expect_consistent(t, truth);
    }
}

TEST(TopSources, ExactWhileTheTableHoldsEverySource) {
    TopSources t(8);
    std::map<TopSources::Address, uint64_t> truth;
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        const TopSources::Address a = v4(10, 0, 0, static_cast<uint8_t>(rng() % 8));
        t.count(a.data());
        truth[a]++;
    }
    EXPECT_EQ(t.total(), 5000u);
    ASSERT_EQ(t.entries().size(), truth.size());
    for (const TopSources::Entry &e : t.entries()) {
        EXPECT_EQ(e.count, truth.at(e.address));
        EXPECT_EQ(e.error, 0u);
    }
}

TEST(TopSources, PastCapacityHeavyHittersStayAndCountsBoundTheTruth) {
    constexpr size_t kCapacity = 16;
    TopSources t(kCapacity);
    std::map<TopSources::Address, uint64_t> truth;
    std::mt19937 rng(11);
    // Three heavy senders (a quarter of the traffic each) among 500 light ones, interleaved.
    for (int i = 0; i < 40000; ++i) {
        const uint32_t r = rng() % 4;
        const TopSources::Address a =
            r < 3 ? v4(192, 0, 2, static_cast<uint8_t>(r))
                  : v4(10, 1, static_cast<uint8_t>(rng() % 2), static_cast<uint8_t>(rng() % 250));
        t.count(a.data());
        truth[a]++;
    }
    EXPECT_EQ(t.total(), 40000u);
    EXPECT_EQ(t.entries().size(), kCapacity);  // never grew past its capacity
    expect_consistent(t, truth);
    for (const TopSources::Entry &e : t.entries()) {
        const uint64_t real = truth.count(e.address) ? truth.at(e.address) : 0;
        EXPECT_GE(e.count, real);            // never under the truth
        EXPECT_LE(e.count - e.error, real);  // and at most error over it
    }
    const TopN top = merge_top({&t}, 3);
    for (uint8_t heavy = 0; heavy < 3; ++heavy) {
        bool found = false;
        for (const SourceCount &s : top.top) found |= s.address == v4(192, 0, 2, heavy);
        EXPECT_TRUE(found) << "heavy sender " << int(heavy) << " not in the top 3";
    }
}

TEST(TopSources, MergeSumsLcoresAndOtherIsTheRest) {
    TopSources a(8), b(8);
    const auto send = [](TopSources &t, TopSources::Address addr, int n) {
        for (int i = 0; i < n; ++i) t.count(addr.data());
    };
    send(a, v4(10, 0, 0, 1), 5);
    send(b, v4(10, 0, 0, 1), 4);  // the same sender on two lcores: 9 in all
    send(a, v4(10, 0, 0, 2), 7);
    send(b, v4(10, 0, 0, 4), 3);
    send(b, v4(10, 0, 0, 3), 3);  // a tie with .4: the lower address first
    send(a, v4(10, 0, 0, 5), 1);
    const TopN top = merge_top({&a, &b}, 3);
    ASSERT_EQ(top.top.size(), 3u);
    EXPECT_EQ(top.top[0].address, v4(10, 0, 0, 1));
    EXPECT_EQ(top.top[0].count, 9u);
    EXPECT_EQ(top.top[1].address, v4(10, 0, 0, 2));
    EXPECT_EQ(top.top[1].count, 7u);
    EXPECT_EQ(top.top[2].address, v4(10, 0, 0, 3));
    EXPECT_EQ(top.other, 3u + 1u);
    const TopN all = merge_top({&a, &b}, 10);
    EXPECT_EQ(all.top.size(), 5u);
    EXPECT_EQ(all.other, 0u);
}

TEST(DurationHistogram, UpperBoundsAreInclusiveAndPastTheLastIsInf) {
    DurationHistogram h;
    h.observe(0);
    h.observe(10'000);  // exactly the first bound (10 us): in it, as Prometheus' le
    h.observe(10'001);
    h.observe(30'000'000'001);  // past 30 s
    h.observe(-5);              // clocks out of order: counted as 0
    EXPECT_EQ(h.counts[0], 3u);
    EXPECT_EQ(h.counts[1], 1u);
    EXPECT_EQ(h.counts.back(), 1u);
    EXPECT_EQ(h.count(), 5u);
    EXPECT_EQ(h.sum_ns, 10'000u + 10'001u + 30'000'000'001u);
    AtomicDurationHistogram a;
    a.observe(2'000'000);
    a.observe(2'000'000);
    const DurationHistogram loaded = a.load();
    EXPECT_EQ(loaded.counts[DurationHistogram::bucket(2'000'000)], 2u);
    EXPECT_EQ(DurationHistogram::kUpperBoundsNs[DurationHistogram::bucket(2'000'000)], 2'500'000);
    h += loaded;
    EXPECT_EQ(h.count(), 7u);
}

TEST(BatchTimer, CollectsPairWithSubmitsInOrder) {
    using std::chrono::milliseconds;
    const auto t0 = std::chrono::steady_clock::time_point{};
    pipeline::BatchTimer timer(2);
    DurationHistogram h;
    timer.submitted(t0);
    timer.submitted(t0 + milliseconds(3));
    EXPECT_THROW(timer.submitted(t0 + milliseconds(4)), std::logic_error);  // more than the ring
    timer.collected(t0 + milliseconds(4), h);                               // the first: 4 ms
    timer.submitted(t0 + milliseconds(5));
    timer.collected(t0 + milliseconds(5), h);  // the second: 2 ms
    timer.collected(t0 + milliseconds(6), h);  // the third: 1 ms
    EXPECT_EQ(h.count(), 3u);
    EXPECT_EQ(h.sum_ns, 7'000'000u);
    EXPECT_EQ(h.counts[DurationHistogram::bucket(4'000'000)], 1u);  // (2.5, 5] ms
    EXPECT_EQ(h.counts[DurationHistogram::bucket(2'000'000)], 1u);  // (1, 2.5] ms
    EXPECT_EQ(h.counts[DurationHistogram::bucket(1'000'000)], 1u);  // (0.5, 1] ms
}

}  // namespace
}  // namespace tapsift
