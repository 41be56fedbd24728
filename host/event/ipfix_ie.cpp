#include "ipfix_ie.hpp"

namespace tapsift::event {
namespace {

constexpr IeInfo kIes[] = {
#include "ipfix_ie_table.inc"
};

constexpr uint16_t largest_id() {
    uint16_t largest = 0;
    for (const IeInfo &e : kIes) largest = e.id > largest ? e.id : largest;
    return largest;
}

// Each id's entry, or nullptr: looked up for every field of every record, so by index.
struct IeIndex {
    const IeInfo *by_id[largest_id() + 1] = {};
    IeIndex() {
        for (const IeInfo &e : kIes) by_id[e.id] = &e;
    }
};

}  // namespace

const IeInfo *find_ie(uint16_t id) {
    static const IeIndex index;
    return id <= largest_id() ? index.by_id[id] : nullptr;
}

}  // namespace tapsift::event
