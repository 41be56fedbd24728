#include "ipfix_ie.hpp"

#include <algorithm>
#include <iterator>

namespace tapsift::event {
namespace {

constexpr IeInfo kIes[] = {
#include "ipfix_ie_table.inc"
};

}  // namespace

const IeInfo *find_ie(uint16_t id) {
    const IeInfo *it = std::lower_bound(std::begin(kIes), std::end(kIes), id,
                                        [](const IeInfo &e, uint16_t v) { return e.id < v; });
    return it != std::end(kIes) && it->id == id ? it : nullptr;
}

}  // namespace tapsift::event
