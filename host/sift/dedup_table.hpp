// Dedup / suppression: events identical in (kind, host, app, message) within a window are folded
// into one, emitted when the window closes, with how many it stands for and the first and last
// arrival times. Bounded in entries and bytes; closing an entry early to make room is counted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tapsift::sift {

struct DedupClosed {
    std::string held;  // the opaque bytes open() was given for the first event
    uint64_t count;    // events folded into this one, itself included (>= 1)
    int64_t first_ns;
    int64_t last_ns;
};

struct DedupStats {
    uint64_t opened = 0;
    uint64_t folded = 0;   // events absorbed by an open entry (not emitted on their own)
    uint64_t closed = 0;   // entries emitted (window ended, eviction or drain)
    uint64_t evicted = 0;  // of closed: emitted before their window ended, to make room
};

class DedupTable {
  public:
    // Called once an entry has left the table; it must not call back into the table.
    using Emit = std::function<void(DedupClosed &&)>;
    // 64-bit hash of a key; equal hashes are told apart by comparing the key bytes.
    using KeyHash = uint64_t (*)(std::string_view key);

    // Charged per entry on top of its key and held bytes: the list and map nodes, the two string
    // headers and the allocator's share, so max_bytes tracks memory rather than payload.
    static constexpr uint64_t kEntryOverhead = 192;

    // window_ns > 0; max_entries >= 1 (else std::invalid_argument); max_bytes bounds the sum over
    // entries of key bytes + held bytes + kEntryOverhead. One entry larger than max_bytes on its
    // own is still accepted, after every other entry has been evicted.
    DedupTable(int64_t window_ns, uint32_t max_entries, uint64_t max_bytes);
    // The same with another key hash (tests force collisions with a constant one).
    DedupTable(int64_t window_ns, uint32_t max_entries, uint64_t max_bytes, KeyHash hash);
    ~DedupTable();

    // If an entry with this key is open and now_ns < its first_ns + window, folds the event into
    // it (count + 1, last_ns = now_ns) and returns true. Otherwise returns false and the caller
    // calls open(). Times are packet arrival times (replays are deterministic).
    bool fold(std::string_view key, int64_t now_ns);
    // Opens an entry for an event fold() refused. To make room (entries or bytes), the oldest
    // entries are closed first and passed to emit, counted as evicted. An entry with the same
    // key whose window has ended is closed (emitted) first.
    void open(std::string_view key, int64_t now_ns, std::string held, const Emit &emit);
    // Emits, oldest first, every entry whose window has ended by now_ns.
    void expire(int64_t now_ns, const Emit &emit);
    // Emits everything (shutdown).
    void drain(const Emit &emit);

    size_t entries() const;
    uint64_t bytes() const;
    const DedupStats &stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tapsift::sift
