#include "sift/dedup_table.hpp"

#include <iterator>
#include <limits>
#include <list>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace tapsift::sift {
namespace {

uint64_t default_hash(std::string_view key) {
    return std::hash<std::string_view>{}(key);
}

// first_ns + window_ns without overflow: an entry opened near the end of time stays open.
int64_t window_end(int64_t first_ns, int64_t window_ns) {
    return first_ns > std::numeric_limits<int64_t>::max() - window_ns
               ? std::numeric_limits<int64_t>::max()
               : first_ns + window_ns;
}

struct Entry {
    std::string key;
    std::string held;
    uint64_t hash;
    uint64_t count;
    int64_t first_ns;
    int64_t last_ns;
    int64_t end_ns;  // first_ns + window, saturated
    uint64_t charged;
};

using Order = std::list<Entry>;

// The key is already a 64-bit hash.
struct Identity {
    size_t operator()(uint64_t h) const { return static_cast<size_t>(h); }
};

}  // namespace

struct DedupTable::Impl {
    int64_t window_ns;
    uint32_t max_entries;
    uint64_t max_bytes;
    KeyHash hash;
    // Sorted by first_ns, ties in open order, so the entries to expire or evict are at the front.
    Order order;
    // Colliding keys share a hash; find() tells them apart by their bytes.
    std::unordered_multimap<uint64_t, Order::iterator, Identity> index;
    uint64_t bytes = 0;
    DedupStats stats;

    Order::iterator find(std::string_view key, uint64_t h) {
        const auto [lo, hi] = index.equal_range(h);
        for (auto it = lo; it != hi; ++it)
            if (it->second->key == key) return it->second;
        return order.end();
    }

    // Takes e out of the table before emitting it, so a throwing emit leaves the table consistent.
    void close(Order::iterator e, bool evicted, const Emit &emit) {
        const auto [lo, hi] = index.equal_range(e->hash);
        for (auto it = lo; it != hi; ++it) {
            if (it->second == e) {
                index.erase(it);
                break;
            }
        }
        bytes -= e->charged;
        stats.closed++;
        if (evicted) stats.evicted++;
        DedupClosed closed{std::move(e->held), e->count, e->first_ns, e->last_ns};
        order.erase(e);
        emit(std::move(closed));
    }
};

DedupTable::DedupTable(int64_t window_ns, uint32_t max_entries, uint64_t max_bytes)
    : DedupTable(window_ns, max_entries, max_bytes, default_hash) {}

DedupTable::DedupTable(int64_t window_ns, uint32_t max_entries, uint64_t max_bytes, KeyHash hash)
    : impl_(std::make_unique<Impl>()) {
    if (window_ns <= 0) throw std::invalid_argument("dedup window must be positive");
    if (max_entries == 0) throw std::invalid_argument("dedup table needs room for one entry");
    impl_->window_ns = window_ns;
    impl_->max_entries = max_entries;
    impl_->max_bytes = max_bytes;
    impl_->hash = hash ? hash : default_hash;
}

DedupTable::~DedupTable() = default;

bool DedupTable::fold(std::string_view key, int64_t now_ns) {
    Impl &t = *impl_;
    const auto e = t.find(key, t.hash(key));
    if (e == t.order.end() || now_ns >= e->end_ns) return false;
    e->count++;
    // Arrival times may step back a little (several capture queues): last_ns stays the latest.
    if (now_ns > e->last_ns) e->last_ns = now_ns;
    t.stats.folded++;
    return true;
}

void DedupTable::open(std::string_view key, int64_t now_ns, std::string held, const Emit &emit) {
    Impl &t = *impl_;
    const uint64_t h = t.hash(key);
    // Keys stay unique. With fold() refused first, the old entry's window has ended; if the caller
    // skipped fold(), closing a live entry early is an eviction.
    if (const auto old = t.find(key, h); old != t.order.end())
        t.close(old, now_ns < old->end_ns, emit);

    const uint64_t charged = key.size() + held.size() + kEntryOverhead;
    while (!t.order.empty() &&
           (t.order.size() >= t.max_entries || t.bytes + charged > t.max_bytes)) {
        // An entry whose window has ended would have gone at the next expire(): not an eviction.
        const auto oldest = t.order.begin();
        t.close(oldest, now_ns < oldest->end_ns, emit);
    }

    // Walk back past later-opened entries: O(1) when arrival times do not decrease.
    auto pos = t.order.end();
    while (pos != t.order.begin() && std::prev(pos)->first_ns > now_ns) --pos;
    const auto e = t.order.insert(pos, Entry{std::string(key), std::move(held), h, 1, now_ns,
                                             now_ns, window_end(now_ns, t.window_ns), charged});
    try {
        t.index.emplace(h, e);
    } catch (...) {
        t.order.erase(e);
        throw;
    }
    t.bytes += charged;
    t.stats.opened++;
}

void DedupTable::expire(int64_t now_ns, const Emit &emit) {
    Impl &t = *impl_;
    while (!t.order.empty() && t.order.front().end_ns <= now_ns)
        t.close(t.order.begin(), false, emit);
}

void DedupTable::drain(const Emit &emit) {
    Impl &t = *impl_;
    while (!t.order.empty()) t.close(t.order.begin(), false, emit);
}

size_t DedupTable::entries() const {
    return impl_->order.size();
}

uint64_t DedupTable::bytes() const {
    return impl_->bytes;
}

const DedupStats &DedupTable::stats() const {
    return impl_->stats;
}

}  // namespace tapsift::sift
