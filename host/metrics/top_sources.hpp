// The sources (syslog senders, flow exporters) that sent the most, counted on an lcore in a
// fixed table: the space-saving sketch (Metwally, Agrawal, El Abbadi 2005), so counting never
// allocates. Exact while the table has held every source seen; past that, a new source takes over
// the smallest entry and inherits its count (kept as its error), so a source's count is at most
// error too high, and every source with more than total/capacity is in the table.
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

    explicit TopSources(size_t capacity = 0) { entries_.reserve(capacity); }

    void count(const uint8_t address[16]);
    uint64_t total() const { return total_; }
    const std::vector<Entry> &entries() const { return entries_; }

  private:
    std::vector<Entry> entries_;  // capacity fixed at construction
    uint64_t total_ = 0;
    size_t last_ = 0;  // the entry counted last: a sender's datagrams come in runs
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
