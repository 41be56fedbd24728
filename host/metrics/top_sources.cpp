#include "metrics/top_sources.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

namespace tapsift {
namespace {

// At most half full, so a probe ends soon at an empty slot.
size_t slot_count(size_t capacity) {
    size_t n = 2;
    while (n < 2 * capacity) n *= 2;
    return n;
}

// splitmix64's finalizer: every input bit moves the low bits the index uses (an IPv4 address
// mapped into IPv6 differs from its neighbours only in its last bytes).
uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

TopSources::TopSources(size_t capacity)
    : capacity_(capacity), slots_(slot_count(capacity), kEmpty) {
    entries_.reserve(capacity);
    heap_.reserve(capacity);
    heap_at_.reserve(capacity);
}

size_t TopSources::home(const Address &a) const {
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, a.data(), 8);
    std::memcpy(&lo, a.data() + 8, 8);
    return static_cast<size_t>(mix(lo ^ mix(hi))) & (slots_.size() - 1);
}

size_t TopSources::slot_of(const Address &a) const {
    size_t s = home(a);
    while (slots_[s] != kEmpty && entries_[slots_[s]].address != a)
        s = (s + 1) & (slots_.size() - 1);
    return s;
}

// Backward-shift deletion: the entries after it in its probe run move up, so no tombstones.
void TopSources::erase_slot(size_t slot) {
    const size_t mask = slots_.size() - 1;
    size_t next = slot;
    while (true) {
        next = (next + 1) & mask;
        if (slots_[next] == kEmpty) break;
        const size_t want = home(entries_[slots_[next]].address);
        // It stays if its home lies cyclically in (slot, next]: the hole is not on its path.
        const bool stays =
            slot <= next ? (slot < want && want <= next) : (slot < want || want <= next);
        if (stays) continue;
        slots_[slot] = slots_[next];
        slot = next;
    }
    slots_[slot] = kEmpty;
}

void TopSources::swap_heap(size_t a, size_t b) {
    std::swap(heap_[a], heap_[b]);
    heap_at_[heap_[a]] = static_cast<uint32_t>(a);
    heap_at_[heap_[b]] = static_cast<uint32_t>(b);
}

void TopSources::sift_up(size_t at) {
    while (at > 0) {
        const size_t parent = (at - 1) / 2;
        if (entries_[heap_[parent]].count <= entries_[heap_[at]].count) return;
        swap_heap(at, parent);
        at = parent;
    }
}

void TopSources::sift_down(size_t at) {
    while (true) {
        size_t smallest = at;
        for (const size_t child : {2 * at + 1, 2 * at + 2}) {
            if (child < heap_.size() &&
                entries_[heap_[child]].count < entries_[heap_[smallest]].count)
                smallest = child;
        }
        if (smallest == at) return;
        swap_heap(at, smallest);
        at = smallest;
    }
}

void TopSources::count(const uint8_t address[16]) {
    total_++;
    if (capacity_ == 0) return;  // counts the total only
    Address a;
    std::memcpy(a.data(), address, 16);
    const size_t slot = slot_of(a);
    if (slots_[slot] != kEmpty) {
        const uint32_t e = slots_[slot];
        entries_[e].count++;
        sift_down(heap_at_[e]);
        return;
    }
    if (entries_.size() < capacity_) {  // room: reserved at construction, never reallocates
        const uint32_t e = static_cast<uint32_t>(entries_.size());
        entries_.push_back({a, 1, 0});
        slots_[slot] = e;
        heap_.push_back(e);
        heap_at_.push_back(static_cast<uint32_t>(heap_.size() - 1));
        sift_up(heap_.size() - 1);
        return;
    }
    // Full: the smallest entry becomes this source, keeping its count as the error.
    const uint32_t e = heap_[0];
    erase_slot(slot_of(entries_[e].address));
    entries_[e].address = a;
    entries_[e].error = entries_[e].count;
    entries_[e].count++;
    slots_[slot_of(a)] = e;
    sift_down(0);
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
    // Past its capacity a table's counts add up to its total still: other is never negative.
    out.other = total - shown;
    return out;
}

}  // namespace tapsift
