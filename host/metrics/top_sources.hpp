// The sources (syslog senders, flow exporters) that sent the most, counted on an lcore in a
// fixed table: the space-saving sketch (Metwally, Agrawal, El Abbadi 2005), so counting never
// allocates. Exact while the table has held every source seen; past that, a new source takes over
// the smallest entry and inherits its count (kept as its error), so a source's count is at most
// error too high, and every source with more than total/capacity is in the table. A hash index
// finds a source and a min-heap the smallest entry: O(log capacity) per datagram at worst.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapsift {

class TopSources {
  public:
    using Address = std::array<uint8_t, 16>;  // as in the ingest record (IPv4 mapped into IPv6)
    struct Entry {
        Address address;
        uint64_t count;
        uint64_t error;  // of count: inherited from the source it replaced
    };

    explicit TopSources(size_t capacity = 0);

    void count(const uint8_t address[16]);
    uint64_t total() const { return total_; }
    // In no particular order; the counts add up to total (once capacity > 0).
    const std::vector<Entry> &entries() const { return entries_; }

  private:
    static constexpr uint32_t kEmpty = ~uint32_t{0};
    size_t home(const Address &a) const;
    size_t slot_of(const Address &a) const;  // its slot, or the empty slot where it would go
    void erase_slot(size_t slot);
    void sift_up(size_t at);
    void sift_down(size_t at);
    void swap_heap(size_t a, size_t b);

    size_t capacity_;
    std::vector<Entry> entries_;
    std::vector<uint32_t> slots_;    // open addressing (linear probing): entry index or kEmpty
    std::vector<uint32_t> heap_;     // entry indices, the smallest count at the root
    std::vector<uint32_t> heap_at_;  // per entry: its place in heap_
    uint64_t total_ = 0;
};

// A top-N of several lcores' tables: each address's counts summed, the largest n (ties by
// address), and what the rest sent.
struct SourceCount {
    TopSources::Address address;
    uint64_t count;
};
struct TopN {
    std::vector<SourceCount> top;
    uint64_t other = 0;  // total minus the top n: every source counted once, top or other
};
TopN merge_top(const std::vector<const TopSources *> &tables, size_t n);

}  // namespace tapsift
