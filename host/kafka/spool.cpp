#include "kafka/spool.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "metrics/wall_clock.hpp"

namespace tapsift::kafka {
namespace {

constexpr uint32_t kMagic = 0x4c505354;  // "TSPL"

struct RecordHeader {
    uint32_t magic;
    uint32_t crc;  // over everything after this field
    int64_t spooled_at_ns;
    uint16_t topic_len;
    uint16_t key_len;
    uint32_t value_len;
};
static_assert(sizeof(RecordHeader) == 24, "spool record header layout");

uint32_t record_crc(const RecordHeader &h, const char *body, size_t body_len) {
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef *>(&h) + 8, sizeof h - 8);
    return static_cast<uint32_t>(
        crc32(crc, reinterpret_cast<const Bytef *>(body), static_cast<uInt>(body_len)));
}

bool read_exact(int fd, uint64_t offset, void *buf, size_t len) {
    return pread(fd, buf, len, static_cast<off_t>(offset)) == static_cast<ssize_t>(len);
}

// Reads the record at offset; false at the end, or at a torn or corrupt record (whose lengths
// are not trusted beyond end, the file's size).
bool read_record(int fd, uint64_t offset, uint64_t end, RecordHeader &h, std::string &body) {
    if (offset + sizeof h > end || !read_exact(fd, offset, &h, sizeof h) || h.magic != kMagic)
        return false;
    const uint64_t body_len = uint64_t{h.topic_len} + h.key_len + h.value_len;
    if (offset + sizeof h + body_len > end) return false;
    body.resize(body_len);
    if (!read_exact(fd, offset + sizeof h, body.data(), body.size())) return false;
    return record_crc(h, body.data(), body.size()) == h.crc;
}

void sync_dir(const std::string &dir, SpoolCounters &stats) {
    const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) stats.io_errors++;
    if (fd >= 0) close(fd);
}

}  // namespace

Spool::Spool(const SpoolConfig &cfg) : cfg_(cfg) {
    std::filesystem::create_directories(cfg_.dir);
    std::vector<uint64_t> ids;
    for (const auto &entry : std::filesystem::directory_iterator(cfg_.dir)) {
        uint64_t id = 0;
        // Only our own names: a stray "segment-3.spool.bak" must not be replayed as segment 3.
        if (std::sscanf(entry.path().filename().c_str(), "segment-%lu.spool", &id) == 1 &&
            entry.path().string() == path_of(id)) {
            ids.push_back(id);
        }
    }
    std::sort(ids.begin(), ids.end());
    for (uint64_t id : ids) {
        Segment seg{id, path_of(id), 0, 0, 0};
        recover(seg);
        next_id_ = id + 1;
        if (seg.records == 0) {
            std::filesystem::remove(seg.path);
            continue;
        }
        stats_.records += seg.records;
        stats_.bytes += seg.bytes;
        stats_.recovered_records += seg.records;
        closed_.push_back(seg);
    }
    if (stats_.records > 0) {
        spdlog::info("spool {}: {} event(s) ({} bytes) from an earlier run will be replayed",
                     cfg_.dir, stats_.records, stats_.bytes);
    }
}

Spool::~Spool() {
    if (cfg_.fsync.mode != FsyncPolicy::Mode::kNever) sync_locked();  // what shutdown spooled
    if (active_fd_ >= 0) close(active_fd_);
    if (read_fd_ >= 0) close(read_fd_);
}

std::string Spool::path_of(uint64_t id) const {
    return fmt::format("{}/segment-{:010}.spool", cfg_.dir, id);
}

void Spool::recover(Segment &seg) {
    const int fd = open(seg.path.c_str(), O_RDWR);
    if (fd < 0)
        throw std::runtime_error("spool: cannot open " + seg.path + ": " + std::strerror(errno));
    RecordHeader h{};
    std::string body;
    uint64_t offset = 0;
    const auto size = static_cast<uint64_t>(lseek(fd, 0, SEEK_END));
    while (read_record(fd, offset, size, h, body)) {
        if (seg.records == 0) seg.oldest_ns = h.spooled_at_ns;
        offset += sizeof h + body.size();
        seg.records++;
    }
    if (size > offset) {
        // A torn or corrupt tail: everything before it is intact, nothing after it can be trusted.
        spdlog::warn("spool {}: {} bytes after record {} fail their checksum; cut off", seg.path,
                     size - offset, seg.records);
        stats_.corrupt_tails++;
        if (ftruncate(fd, static_cast<off_t>(offset)) != 0) stats_.io_errors++;
    }
    seg.bytes = offset;
    close(fd);
}

FsyncPolicy parse_fsync_policy(const std::string &text) {
    if (text == "always") return {FsyncPolicy::Mode::kEveryRecord, 0};
    if (text == "never") return {FsyncPolicy::Mode::kNever, 0};
    return {FsyncPolicy::Mode::kInterval, static_cast<uint32_t>(std::stoul(text))};
}

Spool::AppendResult Spool::append(std::string_view topic, std::string_view key,
                                  std::string_view value) {
    RecordHeader h{kMagic,
                   0,
                   wall_clock_ns(),
                   static_cast<uint16_t>(topic.size()),
                   static_cast<uint16_t>(key.size()),
                   static_cast<uint32_t>(value.size())};
    std::string rec(sizeof h, '\0');
    rec.append(topic).append(key).append(value);
    h.crc = record_crc(h, rec.data() + sizeof h, rec.size() - sizeof h);
    std::memcpy(rec.data(), &h, sizeof h);

    std::lock_guard<std::mutex> lock(mu_);
    if (stats_.bytes + rec.size() > cfg_.max_bytes) {
        stats_.full_drops++;
        return AppendResult::kFull;
    }
    if (active_fd_ < 0) {
        active_ = Segment{next_id_++, "", 0, 0, h.spooled_at_ns};
        active_.path = path_of(active_.id);
        active_fd_ = open(active_.path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
        if (active_fd_ < 0) {
            stats_.io_errors++;
            return AppendResult::kIoError;
        }
        // The new file's directory entry must reach the disk too, or its synced records are
        // unreachable after a power loss.
        if (cfg_.fsync.mode != FsyncPolicy::Mode::kNever) sync_dir(cfg_.dir, stats_);
    }
    if (write(active_fd_, rec.data(), rec.size()) != static_cast<ssize_t>(rec.size())) {
        // A short write (disk full): cut it off, so the records after it stay readable.
        stats_.io_errors++;
        if (ftruncate(active_fd_, static_cast<off_t>(active_.bytes)) != 0) close_active_locked();
        return AppendResult::kIoError;
    }
    active_.bytes += rec.size();
    active_.records++;
    stats_.bytes += rec.size();
    stats_.records++;
    stats_.appended++;
    if (unsynced_since_ns_ == 0) unsynced_since_ns_ = h.spooled_at_ns;
    if (cfg_.fsync.mode == FsyncPolicy::Mode::kEveryRecord) sync_locked();
    if (active_.bytes >= cfg_.segment_bytes) close_active_locked();
    return AppendResult::kOk;
}

void Spool::sync_locked() {
    if (unsynced_since_ns_ == 0 || active_fd_ < 0) return;
    if (fdatasync(active_fd_) != 0) stats_.io_errors++;
    stats_.fsyncs++;
    unsynced_since_ns_ = 0;
}

void Spool::sync_if_due() {
    if (cfg_.fsync.mode != FsyncPolicy::Mode::kInterval) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (unsynced_since_ns_ != 0 &&
        wall_clock_ns() - unsynced_since_ns_ >= int64_t{cfg_.fsync.interval_ms} * 1000000)
        sync_locked();
}

void Spool::close_active_locked() {
    if (active_fd_ < 0) return;
    if (cfg_.fsync.mode != FsyncPolicy::Mode::kNever) sync_locked();
    unsynced_since_ns_ = 0;
    close(active_fd_);
    active_fd_ = -1;
    closed_.push_back(active_);
}

std::shared_ptr<SegmentReplay> Spool::read_batch(size_t max, std::vector<SpooledRecord> &out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!reading_) {
        if (closed_.empty()) close_active_locked();  // replay the live segment too: rotate first
        if (closed_.empty()) return nullptr;
        const Segment seg = closed_.front();
        closed_.pop_front();
        read_fd_ = open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (read_fd_ < 0) {
            stats_.io_errors++;
            return nullptr;
        }
        read_offset_ = 0;
        reading_ = std::make_shared<SegmentReplay>(
            SegmentReplay{seg.id, seg.bytes, seg.records, seg.oldest_ns});
    }
    std::shared_ptr<SegmentReplay> seg = reading_;
    RecordHeader h{};
    std::string body;
    while (out.size() < max && read_offset_ < seg->bytes &&
           read_record(read_fd_, read_offset_, seg->bytes, h, body)) {
        out.push_back(SpooledRecord{body.substr(0, h.topic_len),
                                    body.substr(h.topic_len, h.key_len),
                                    body.substr(size_t{h.topic_len} + h.key_len)});
        read_offset_ += sizeof h + body.size();
        seg->outstanding++;
    }
    if (out.size() < max) {  // the end of the segment (its length was fixed when it was closed)
        if (read_offset_ < seg->bytes) {  // changed on disk since it was written or recovered
            spdlog::error("spool {}: unreadable after {} of {} bytes; the rest is lost",
                          path_of(seg->id), read_offset_, seg->bytes);
            stats_.corrupt_tails++;
        }
        close(read_fd_);
        read_fd_ = -1;
        seg->fully_read = true;
        reading_.reset();
        if (seg->outstanding == 0) finish_locked(*seg);
    }
    return seg;
}

void Spool::settle(const std::shared_ptr<SegmentReplay> &segment) {
    std::lock_guard<std::mutex> lock(mu_);
    segment->outstanding--;
    if (segment->fully_read && segment->outstanding == 0) finish_locked(*segment);
}

void Spool::finish_locked(const SegmentReplay &segment) {
    std::error_code error;  // runs on the delivery-report thread: never throw there
    if (!std::filesystem::remove(path_of(segment.id), error) && error) {
        spdlog::error("spool: cannot delete {}: {}", path_of(segment.id), error.message());
        stats_.io_errors++;
    }
    stats_.bytes -= segment.bytes;
    stats_.records -= segment.records;
}

SpoolCounters Spool::stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    SpoolCounters s = stats_;
    s.oldest_spooled_ns = 0;
    if (reading_) {
        s.oldest_spooled_ns = reading_->oldest_ns;
    } else if (!closed_.empty()) {
        s.oldest_spooled_ns = closed_.front().oldest_ns;
    } else if (active_fd_ >= 0) {
        s.oldest_spooled_ns = active_.oldest_ns;
    }
    return s;
}

bool Spool::empty() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_.records == 0;
}

}  // namespace tapsift::kafka
