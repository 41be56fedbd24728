#include "metrics/top_sources.hpp"

#include <algorithm>
#include <cstring>
#include <map>

namespace tapsift {

void TopSources::count(const uint8_t address[16]) {
    total_++;
    if (last_ < entries_.size() && std::memcmp(entries_[last_].address.data(), address, 16) == 0) {
        entries_[last_].count++;
        return;
    }
    size_t smallest = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (std::memcmp(entries_[i].address.data(), address, 16) == 0) {
            entries_[i].count++;
            last_ = i;
            return;
        }
        if (entries_[i].count < entries_[smallest].count) smallest = i;
    }
    if (entries_.size() < entries_.capacity()) {  // room: never reallocates
        Entry e{{}, 1, 0};
        std::memcpy(e.address.data(), address, 16);
        entries_.push_back(e);
        last_ = entries_.size() - 1;
        return;
    }
    if (entries_.empty()) return;  // a table of capacity 0 counts the total only
    Entry &e = entries_[smallest];
    std::memcpy(e.address.data(), address, 16);
    e.error = e.count;
    e.count++;
    last_ = smallest;
}

TopN merge_top(const std::vector<const TopSources *> &tables, size_t n) {
    std::map<TopSources::Address, uint64_t> sum;
    uint64_t total = 0;
    for (const TopSources *t : tables) {
        total += t->total();
        for (const TopSources::Entry &e : t->entries()) sum[e.address] += e.count;
    }
    TopN out;
    for (const auto &[address, count] : sum) out.top.push_back({address, count});
    std::sort(out.top.begin(), out.top.end(), [](const SourceCount &a, const SourceCount &b) {
        return a.count != b.count ? a.count > b.count : a.address < b.address;
    });
    if (out.top.size() > n) out.top.resize(n);
    uint64_t shown = 0;
    for (const SourceCount &s : out.top) shown += s.count;
    // An overestimated table count can exceed what was counted: other is never negative.
    out.other = total > shown ? total - shown : 0;
    return out;
}

}  // namespace tapsift
