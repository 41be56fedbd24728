#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kafka/spool.hpp"

namespace tapsift::kafka {
namespace {

class SpoolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("tapsift-spool-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    SpoolConfig cfg(uint64_t max_bytes = 1 << 20, uint64_t segment_bytes = 1 << 16) {
        return SpoolConfig{dir_.string(), max_bytes, segment_bytes, FsyncPolicy{}};
    }
    std::vector<std::string> drain_values(Spool &s) {
        std::vector<std::string> values;
        for (int i = 0; i < 1000; ++i) {
            std::vector<SpooledRecord> batch;
            auto seg = s.read_batch(7, batch);
            if (!seg) break;
            for (const auto &r : batch) {
                values.push_back(r.value);
                s.settle(seg);
            }
        }
        return values;
    }
    std::filesystem::path dir_;
};

TEST_F(SpoolTest, ReplaysInOrderAndDeletesSettledSegments) {
    Spool s(cfg(1 << 20, 256));  // small segments: several files
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(s.append("t", "k", "event-" + std::to_string(i)), Spool::AppendResult::kOk);
    }
    EXPECT_EQ(s.stats().records, 50u);
    EXPECT_GT(s.stats().oldest_spooled_ns, 0);
    const auto values = drain_values(s);
    ASSERT_EQ(values.size(), 50u);
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(values[static_cast<size_t>(i)], "event-" + std::to_string(i));
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.stats().bytes, 0u);
    EXPECT_TRUE(std::filesystem::is_empty(dir_)) << "settled segments are deleted";
}

TEST_F(SpoolTest, UnsettledRecordsKeepTheirSegment) {
    Spool s(cfg());
    s.append("t", "k", "a");
    std::vector<SpooledRecord> batch;
    auto seg = s.read_batch(10, batch);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_FALSE(s.empty()) << "read but not delivered: still on disk";
    s.settle(seg);
    EXPECT_TRUE(s.empty());
}

TEST_F(SpoolTest, SurvivesARestart) {
    {
        Spool s(cfg());
        for (int i = 0; i < 10; ++i)
            s.append("tapsift.syslog", "10.0.0.1", "v" + std::to_string(i));
    }
    Spool again(cfg());
    EXPECT_EQ(again.stats().recovered_records, 10u);
    std::vector<SpooledRecord> batch;
    again.read_batch(100, batch);
    ASSERT_EQ(batch.size(), 10u);
    EXPECT_EQ(batch[3].topic, "tapsift.syslog");
    EXPECT_EQ(batch[3].key, "10.0.0.1");
    EXPECT_EQ(batch[3].value, "v3");
}

TEST_F(SpoolTest, TornTailIsCutOffAndCounted) {
    {
        Spool s(cfg());
        s.append("t", "k", "intact-1");
        s.append("t", "k", "intact-2");
        s.append("t", "k", "will be torn");
    }
    const auto seg = *std::filesystem::directory_iterator(dir_);
    std::filesystem::resize_file(seg.path(), std::filesystem::file_size(seg.path()) - 3);
    Spool again(cfg());
    EXPECT_EQ(again.stats().recovered_records, 2u);
    EXPECT_EQ(again.stats().corrupt_tails, 1u);
    EXPECT_EQ(drain_values(again), (std::vector<std::string>{"intact-1", "intact-2"}));
}

TEST_F(SpoolTest, FlippedBitFailsTheChecksum) {
    {
        Spool s(cfg());
        s.append("t", "k", "first");
        s.append("t", "k", "second");
    }
    const auto seg = *std::filesystem::directory_iterator(dir_);
    std::fstream f(seg.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('X');
    f.close();
    Spool again(cfg());
    EXPECT_EQ(again.stats().recovered_records, 1u);
    EXPECT_EQ(again.stats().corrupt_tails, 1u);
}

TEST_F(SpoolTest, FullSpoolRefusesAndCounts) {
    Spool s(cfg(1 << 20));
    const std::string big(400 << 10, 'x');
    EXPECT_EQ(s.append("t", "k", big), Spool::AppendResult::kOk);
    EXPECT_EQ(s.append("t", "k", big), Spool::AppendResult::kOk);
    EXPECT_EQ(s.append("t", "k", big), Spool::AppendResult::kFull);
    EXPECT_EQ(s.stats().full_drops, 1u);
    EXPECT_LE(s.stats().bytes, uint64_t{1} << 20);
}

// The counter shows when data was synced; whether it reached the platter is the kernel's word.
TEST_F(SpoolTest, FsyncPolicies) {
    SpoolConfig c = cfg();
    c.fsync = parse_fsync_policy("always");
    {
        Spool s(c);
        for (int i = 0; i < 5; ++i) ASSERT_EQ(s.append("t", "k", "v"), Spool::AppendResult::kOk);
        EXPECT_EQ(s.stats().fsyncs, 5u);
    }
    std::filesystem::remove_all(dir_);
    c.fsync = parse_fsync_policy("never");
    {
        Spool s(c);
        for (int i = 0; i < 5; ++i) ASSERT_EQ(s.append("t", "k", "v"), Spool::AppendResult::kOk);
        s.sync_if_due();
        EXPECT_EQ(s.stats().fsyncs, 0u);
    }
    std::filesystem::remove_all(dir_);
    // An interval far longer than the test: nothing is due (a 20 ms interval made this flaky on
    // a loaded machine, where 5 appends can take longer).
    c.fsync = parse_fsync_policy("60000");
    {
        Spool s(c);
        for (int i = 0; i < 5; ++i) ASSERT_EQ(s.append("t", "k", "v"), Spool::AppendResult::kOk);
        s.sync_if_due();
        EXPECT_EQ(s.stats().fsyncs, 0u);
    }
    std::filesystem::remove_all(dir_);
    c.fsync = parse_fsync_policy("20");
    {
        Spool s(c);
        for (int i = 0; i < 5; ++i) ASSERT_EQ(s.append("t", "k", "v"), Spool::AppendResult::kOk);
        usleep(30000);
        s.sync_if_due();
        s.sync_if_due();  // nothing new since
        EXPECT_EQ(s.stats().fsyncs, 1u);
    }
}

}  // namespace
}  // namespace tapsift::kafka
