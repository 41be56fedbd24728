// The disk spool: where events go when the broker cannot take them (producer queue full, delivery
// timed out, shutdown deadline), and where they are replayed from, oldest first, once it can.
//
// A directory of segment files (segment-<n>.spool), each a run of records:
//   u32 magic "TSPL" | u32 crc32 of the rest | u64 spooled_at_ns | u16 topic_len | u16 key_len |
//   u32 value_len | topic | key | value
// Writes are one write(2) per record, so a SIGKILL loses nothing the call returned for; a torn
// tail (power loss) fails its checksum and is cut off, and counted, when the spool is reopened.
// On power loss, what survives depends on the fsync policy (kafka.spool.fsync): every record
// (fdatasync before append returns), every N ms (at most the last N ms of appends are lost), or
// never (whatever the kernel had not written back, up to its dirty-page expiry, ~30 s).
// A segment is deleted once every record in it has been delivered or spooled again.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/counters.hpp"

namespace tapsift::kafka {

// When appended records reach the disk itself (not only the page cache).
struct FsyncPolicy {
    enum class Mode { kEveryRecord, kInterval, kNever };
    Mode mode = Mode::kInterval;
    uint32_t interval_ms = 100;  // kInterval: the longest an appended record stays unsynced
};

// "always" | "never" | "N" (ms), as kafka.spool.fsync takes it (the config loader checked it).
FsyncPolicy parse_fsync_policy(const std::string &text);

struct SpoolConfig {
    std::string dir;
    uint64_t max_bytes = 1ull << 30;
    uint64_t segment_bytes = 8ull << 20;
    FsyncPolicy fsync;
};

struct SpooledRecord {
    std::string topic;
    std::string key;
    std::string value;
};

// Progress of one segment being replayed; the delivery report of each record points at it.
struct SegmentReplay {
    uint64_t id;
    uint64_t bytes;
    uint64_t records;
    int64_t oldest_ns;
    uint64_t outstanding = 0;  // produced, no delivery report yet
    bool fully_read = false;
};

class Spool {
  public:
    explicit Spool(const SpoolConfig &cfg);  // creates dir, recovers segments; throws on I/O errors
    ~Spool();
    Spool(const Spool &) = delete;
    Spool &operator=(const Spool &) = delete;

    enum class AppendResult { kOk, kFull, kIoError };
    AppendResult append(std::string_view topic, std::string_view key, std::string_view value);

    // Reads up to max records of the oldest segment (closing the active one if it is the only
    // one left). Returns nullptr when there is nothing to replay.
    std::shared_ptr<SegmentReplay> read_batch(size_t max, std::vector<SpooledRecord> &out);
    // One replayed record is settled (delivered, or spooled again): deletes finished segments.
    void settle(const std::shared_ptr<SegmentReplay> &segment);

    // Under the interval policy, syncs appends older than the interval (called every few ms by
    // the replayer, so a quiet spool is synced too).
    void sync_if_due();

    SpoolCounters stats() const;
    bool empty() const;

  private:
    struct Segment {
        uint64_t id;
        std::string path;
        uint64_t bytes;
        uint64_t records;
        int64_t oldest_ns;
    };
    std::string path_of(uint64_t id) const;
    void recover(Segment &seg);
    void close_active_locked();
    void finish_locked(const SegmentReplay &segment);
    void sync_locked();

    SpoolConfig cfg_;
    mutable std::mutex mu_;
    std::deque<Segment> closed_;  // oldest first
    int active_fd_ = -1;
    Segment active_{};
    uint64_t next_id_ = 1;
    int64_t unsynced_since_ns_ = 0;  // 0: everything appended is synced
    // The segment being replayed: its open file and read offset.
    std::shared_ptr<SegmentReplay> reading_;
    int read_fd_ = -1;
    uint64_t read_offset_ = 0;
    SpoolCounters stats_;
};

}  // namespace tapsift::kafka
