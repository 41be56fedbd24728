#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "sift/dedup_table.hpp"

namespace tapsift::sift {
namespace {

constexpr int64_t kWindow = 1000;

struct Sink {
    std::vector<DedupClosed> out;
    DedupTable::Emit emit() {
        return [this](DedupClosed &&c) { out.push_back(std::move(c)); };
    }
    std::vector<std::string> held() const {
        std::vector<std::string> h;
        for (const DedupClosed &c : out) h.push_back(c.held);
        return h;
    }
};

// The gateway's calling pattern: fold, else open.
void offer(DedupTable &t, const std::string &key, int64_t now, const std::string &held,
           Sink &sink) {
    if (!t.fold(key, now)) t.open(key, now, held, sink.emit());
}

uint64_t constant_hash(std::string_view) {
    return 42;
}

uint64_t entry_bytes(const std::string &key, const std::string &held) {
    return key.size() + held.size() + DedupTable::kEntryOverhead;
}

TEST(DedupTableTest, RejectsBadLimits) {
    EXPECT_THROW(DedupTable(0, 10, 1 << 20), std::invalid_argument);
    EXPECT_THROW(DedupTable(kWindow, 0, 1 << 20), std::invalid_argument);
}

TEST(DedupTableTest, FoldsWithinWindowOnly) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    EXPECT_FALSE(t.fold("k", 100));  // nothing open yet
    t.open("k", 100, "first", sink.emit());
    EXPECT_TRUE(t.fold("k", 100));
    EXPECT_TRUE(t.fold("k", 100 + kWindow - 1));
    EXPECT_FALSE(t.fold("k", 100 + kWindow));  // the window is measured from the first event
    EXPECT_FALSE(t.fold("other", 200));
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(t.entries(), 1u);
    EXPECT_EQ(t.stats().opened, 1u);
    EXPECT_EQ(t.stats().folded, 2u);
}

TEST(DedupTableTest, ReportsCountFirstLast) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    offer(t, "k", 100, "held-100", sink);
    offer(t, "k", 150, "held-150", sink);
    offer(t, "k", 900, "held-900", sink);
    t.drain(sink.emit());
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].held, "held-100");  // the first event's bytes are the ones kept
    EXPECT_EQ(sink.out[0].count, 3u);
    EXPECT_EQ(sink.out[0].first_ns, 100);
    EXPECT_EQ(sink.out[0].last_ns, 900);
}

TEST(DedupTableTest, OpensNewEntryAfterWindowAndClosesOldOne) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    offer(t, "k", 0, "a", sink);
    offer(t, "k", 500, "b", sink);
    offer(t, "k", kWindow, "c", sink);  // window over: the old entry goes out first
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].held, "a");
    EXPECT_EQ(sink.out[0].count, 2u);
    EXPECT_EQ(sink.out[0].last_ns, 500);
    EXPECT_EQ(t.entries(), 1u);
    EXPECT_EQ(t.stats().closed, 1u);
    EXPECT_EQ(t.stats().evicted, 0u);

    EXPECT_TRUE(t.fold("k", kWindow + 1));
    t.drain(sink.emit());
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[1].held, "c");
    EXPECT_EQ(sink.out[1].count, 2u);
    EXPECT_EQ(sink.out[1].first_ns, kWindow);
}

TEST(DedupTableTest, OpenWithoutFoldStillKeepsKeysUnique) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    t.open("k", 0, "a", sink.emit());
    t.open("k", 10, "b", sink.emit());  // the caller skipped fold(): the live entry is evicted
    ASSERT_EQ(sink.held(), std::vector<std::string>{"a"});
    EXPECT_EQ(t.entries(), 1u);
    EXPECT_EQ(t.stats().evicted, 1u);
}

TEST(DedupTableTest, ExpiresOldestFirst) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    offer(t, "a", 0, "a", sink);
    offer(t, "b", 10, "b", sink);
    offer(t, "c", 20, "c", sink);
    offer(t, "a", 30, "a2", sink);  // folding does not move an entry

    t.expire(kWindow - 1, sink.emit());
    EXPECT_TRUE(sink.out.empty());
    t.expire(kWindow + 10, sink.emit());  // first_ns + window <= now: a and b
    EXPECT_EQ(sink.held(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(sink.out[0].count, 2u);
    EXPECT_EQ(t.entries(), 1u);
    EXPECT_EQ(t.stats().closed, 2u);
    EXPECT_EQ(t.stats().evicted, 0u);
    EXPECT_FALSE(t.fold("a", kWindow + 10));
    EXPECT_TRUE(t.fold("c", kWindow + 10));
}

TEST(DedupTableTest, KeepsFirstNsOrderWhenArrivalsStepBack) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    offer(t, "b", 50, "b", sink);
    offer(t, "a", 40, "a", sink);
    offer(t, "c", 60, "c", sink);
    t.expire(40 + kWindow, sink.emit());
    EXPECT_EQ(sink.held(), std::vector<std::string>{"a"});
    t.drain(sink.emit());
    EXPECT_EQ(sink.held(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(DedupTableTest, EvictsOldestWhenEntriesAreFull) {
    DedupTable t(kWindow, 3, 1 << 20);
    Sink sink;
    uint64_t offered = 0;
    for (int i = 0; i < 5; ++i) {
        const std::string key = "k" + std::to_string(i);
        offer(t, key, i, key, sink);
        offer(t, key, i, key, sink);
        offered += 2;
    }
    EXPECT_EQ(t.entries(), 3u);
    EXPECT_EQ(sink.held(), (std::vector<std::string>{"k0", "k1"}));
    EXPECT_EQ(t.stats().evicted, 2u);
    EXPECT_EQ(t.stats().closed, 2u);
    EXPECT_FALSE(t.fold("k0", 10));  // an evicted key starts over

    t.drain(sink.emit());
    uint64_t emitted = 0;
    for (const DedupClosed &c : sink.out) emitted += c.count;
    EXPECT_EQ(emitted, offered);
    EXPECT_EQ(t.stats().evicted, 2u);  // draining is not evicting
}

TEST(DedupTableTest, EvictsOldestWhenBytesAreFull) {
    const std::string held(100, 'x');
    const uint64_t one = entry_bytes("k0", held);
    DedupTable t(kWindow, 100, 2 * one);
    Sink sink;
    offer(t, "k0", 0, held, sink);
    offer(t, "k1", 1, held, sink);
    EXPECT_EQ(t.bytes(), 2 * one);
    EXPECT_TRUE(sink.out.empty());
    offer(t, "k1", 2, held, sink);
    offer(t, "k2", 3, held, sink);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].first_ns, 0);
    EXPECT_EQ(t.stats().evicted, 1u);
    EXPECT_EQ(t.entries(), 2u);
    EXPECT_EQ(t.bytes(), 2 * one);

    t.drain(sink.emit());
    EXPECT_EQ(t.bytes(), 0u);
    uint64_t emitted = 0;
    for (const DedupClosed &c : sink.out) emitted += c.count;
    EXPECT_EQ(emitted, 4u);
}

TEST(DedupTableTest, MakingRoomWithAnEndedEntryIsNotAnEviction) {
    DedupTable t(kWindow, 1, 1 << 20);
    Sink sink;
    offer(t, "a", 0, "a", sink);
    offer(t, "b", kWindow, "b", sink);  // a's window has ended, expire() was just not called yet
    EXPECT_EQ(sink.held(), std::vector<std::string>{"a"});
    EXPECT_EQ(t.stats().evicted, 0u);
    offer(t, "c", kWindow + 1, "c", sink);
    EXPECT_EQ(t.stats().evicted, 1u);
}

TEST(DedupTableTest, AcceptsOneEntryLargerThanMaxBytes) {
    DedupTable t(kWindow, 10, 1000);
    Sink sink;
    offer(t, "small1", 0, "s1", sink);
    offer(t, "small2", 1, "s2", sink);
    const std::string big(5000, 'b');
    offer(t, "big", 2, big, sink);
    EXPECT_EQ(sink.held(), (std::vector<std::string>{"s1", "s2"}));
    EXPECT_EQ(t.entries(), 1u);
    EXPECT_EQ(t.bytes(), entry_bytes("big", big));
    EXPECT_TRUE(t.fold("big", 3));

    offer(t, "small3", 4, "s3", sink);  // the big one goes to make room
    ASSERT_EQ(sink.out.size(), 3u);
    EXPECT_EQ(sink.out[2].held, big);
    EXPECT_EQ(sink.out[2].count, 2u);
    EXPECT_EQ(t.stats().evicted, 3u);
    EXPECT_EQ(t.bytes(), entry_bytes("small3", "s3"));
}

TEST(DedupTableTest, DrainEmitsAllOldestFirst) {
    DedupTable t(kWindow, 10, 1 << 20);
    Sink sink;
    offer(t, "c", 5, "c", sink);
    offer(t, "a", 6, "a", sink);
    offer(t, "b", 7, "b", sink);
    offer(t, "c", 8, "c2", sink);
    t.drain(sink.emit());
    EXPECT_EQ(sink.held(), (std::vector<std::string>{"c", "a", "b"}));
    EXPECT_EQ(t.entries(), 0u);
    EXPECT_EQ(t.bytes(), 0u);
    EXPECT_EQ(t.stats().closed, 3u);
    EXPECT_EQ(t.stats().evicted, 0u);
    t.drain(sink.emit());
    EXPECT_EQ(sink.out.size(), 3u);
}

TEST(DedupTableTest, CollidingKeysStayApart) {
    DedupTable t(kWindow, 10, 1 << 20, constant_hash);
    Sink sink;
    offer(t, "a", 0, "a", sink);
    offer(t, "b", 1, "b", sink);
    offer(t, "c", 2, "c", sink);
    EXPECT_EQ(t.entries(), 3u);
    EXPECT_TRUE(t.fold("b", 3));
    EXPECT_TRUE(t.fold("b", 4));
    EXPECT_TRUE(t.fold("c", 5));
    EXPECT_FALSE(t.fold("d", 6));
    EXPECT_FALSE(t.fold("", 6));

    // Closing one colliding entry leaves the others reachable.
    offer(t, "b", 1 + kWindow, "b2", sink);
    EXPECT_EQ(sink.held(), std::vector<std::string>{"b"});
    EXPECT_EQ(sink.out[0].count, 3u);
    EXPECT_TRUE(t.fold("a", kWindow - 1));
    EXPECT_TRUE(t.fold("c", kWindow - 1));
    EXPECT_TRUE(t.fold("b", 2 + kWindow));

    t.drain(sink.emit());
    std::map<std::string, uint64_t> counts;
    for (const DedupClosed &c : sink.out) counts[c.held] = c.count;
    EXPECT_EQ(counts, (std::map<std::string, uint64_t>{{"a", 2}, {"b", 3}, {"b2", 2}, {"c", 3}}));
}

// What the table must emit when nothing is evicted: per key, the runs of events that fall within
// the window of the run's first event.
struct Model {
    struct Run {
        uint64_t count;
        int64_t first_ns;
        int64_t last_ns;
    };
    std::map<std::string, Run> open;
    std::vector<Run> closed;
    void offer(const std::string &key, int64_t now) {
        const auto it = open.find(key);
        if (it != open.end() && now < it->second.first_ns + kWindow) {
            it->second.count++;
            it->second.last_ns = std::max(it->second.last_ns, now);
            return;
        }
        if (it != open.end()) closed.push_back(it->second);
        open[key] = Run{1, now, now};
    }
};

struct PropertyCase {
    const char *name;
    uint32_t max_entries;
    uint64_t max_bytes;
    DedupTable::KeyHash hash;
    int64_t step_back;  // arrival times may go back by up to this much
};

void PrintTo(const PropertyCase &pc, std::ostream *os) {
    *os << pc.name;
}

uint64_t four_buckets(std::string_view key) {
    return std::hash<std::string_view>{}(key) % 4;
}

class DedupTablePropertyTest : public ::testing::TestWithParam<PropertyCase> {};

TEST_P(DedupTablePropertyTest, ConservesEventsAndRespectsWindow) {
    const PropertyCase &pc = GetParam();
    constexpr int kEvents = 100000;
    constexpr int kKeys = 50;
    std::mt19937_64 rng(20240611);
    std::uniform_int_distribution<int> pick_key(0, kKeys - 1);
    std::uniform_int_distribution<int64_t> gap(0, kWindow / 20);
    std::uniform_int_distribution<int64_t> back(0, pc.step_back);
    std::uniform_int_distribution<int> expire_every(0, 99);

    DedupTable t(kWindow, pc.max_entries, pc.max_bytes, pc.hash);
    Model model;
    std::vector<int64_t> times;
    std::vector<DedupClosed> out;
    bool ordered = true;  // within one expire() or drain() call
    int64_t prev_first = 0;
    const DedupTable::Emit collect = [&](DedupClosed &&c) { out.push_back(std::move(c)); };
    const DedupTable::Emit collect_ordered = [&](DedupClosed &&c) {
        if (c.first_ns < prev_first) ordered = false;
        prev_first = c.first_ns;
        out.push_back(std::move(c));
    };

    int64_t clock = 0;
    for (int i = 0; i < kEvents; ++i) {
        clock += gap(rng);
        const int64_t now = clock - back(rng);
        const std::string key = "host" + std::to_string(pick_key(rng)) + "|app|message";
        times.push_back(now);
        model.offer(key, now);
        // held names the event that opened the entry, to check first_ns against.
        if (!t.fold(key, now)) t.open(key, now, std::to_string(i), collect);
        if (expire_every(rng) == 0) {
            // No later event arrives before this, so expiring cannot split a run the model keeps.
            prev_first = std::numeric_limits<int64_t>::min();
            t.expire(clock - pc.step_back, collect_ordered);
        }
        ASSERT_LE(t.entries(), pc.max_entries);
        ASSERT_LE(t.bytes(), pc.max_bytes);
    }
    prev_first = std::numeric_limits<int64_t>::min();
    t.drain(collect_ordered);
    EXPECT_TRUE(ordered);

    uint64_t emitted = 0;
    for (const DedupClosed &c : out) {
        emitted += c.count;
        ASSERT_GE(c.count, 1u);
        ASSERT_EQ(c.first_ns, times.at(std::stoul(c.held)));
        ASSERT_LE(c.first_ns, c.last_ns);
        ASSERT_LT(c.last_ns - c.first_ns, kWindow);
    }
    EXPECT_EQ(emitted, static_cast<uint64_t>(kEvents));
    const DedupStats &s = t.stats();
    EXPECT_EQ(s.opened + s.folded, static_cast<uint64_t>(kEvents));
    EXPECT_EQ(s.closed, s.opened);
    EXPECT_EQ(s.closed, out.size());
    EXPECT_EQ(t.entries(), 0u);
    EXPECT_EQ(t.bytes(), 0u);

    if (pc.max_entries >= kKeys && pc.max_bytes == UINT64_MAX) {
        EXPECT_EQ(s.evicted, 0u);
        for (const auto &[key, run] : model.open) model.closed.push_back(run);
        auto runs = [](std::vector<Model::Run> v) {
            std::vector<std::tuple<int64_t, int64_t, uint64_t>> r;
            for (const Model::Run &x : v) r.emplace_back(x.first_ns, x.last_ns, x.count);
            std::sort(r.begin(), r.end());
            return r;
        };
        std::vector<Model::Run> got;
        for (const DedupClosed &c : out) got.push_back({c.count, c.first_ns, c.last_ns});
        EXPECT_EQ(runs(got), runs(model.closed));
    } else {
        EXPECT_GT(s.evicted, 0u);  // the bounds were exercised
    }
}

INSTANTIATE_TEST_SUITE_P(
    Streams, DedupTablePropertyTest,
    ::testing::Values(
        PropertyCase{"Unbounded", 1000, UINT64_MAX, nullptr, 0},
        PropertyCase{"UnboundedSteppingBack", 1000, UINT64_MAX, nullptr, kWindow / 10},
        PropertyCase{"UnboundedColliding", 1000, UINT64_MAX, four_buckets, kWindow / 10},
        PropertyCase{"FewEntries", 20, UINT64_MAX, nullptr, 0},
        PropertyCase{"FewBytes", 1000, 30 * (DedupTable::kEntryOverhead + 30), nullptr, 0},
        PropertyCase{"BoundedCollidingSteppingBack", 20, 15 * (DedupTable::kEntryOverhead + 30),
                     four_buckets, kWindow / 10}),
    [](const ::testing::TestParamInfo<PropertyCase> &info) { return info.param.name; });

}  // namespace
}  // namespace tapsift::sift
