#include "flow/republish_schedule.hpp"

#include <cstring>
#include <iterator>

namespace tapsift::flow {

RepublishSchedule::RepublishSchedule(int64_t interval_ns, size_t max_keys)
    : interval_ns_(interval_ns), max_keys_(max_keys) {}

RepublishSchedule::Key RepublishSchedule::key_of(const uint8_t exporter[16], uint32_t domain,
                                                 uint16_t template_id) {
    std::array<uint8_t, 16> e;
    std::memcpy(e.data(), exporter, e.size());
    return {e, domain, template_id};
}

void RepublishSchedule::remember(const Key &k, int64_t ns) {
    if (last_.size() >= max_keys_ && last_.count(k) == 0) {
        // Keys an interval old are due anyway: forgetting them changes nothing.
        for (auto it = last_.begin(); it != last_.end();)
            it = ns - it->second >= interval_ns_ ? last_.erase(it) : std::next(it);
        // Still full (more live keys than the engines hold): the next refresh of each forgotten
        // key is published once more, early.
        if (last_.size() >= max_keys_) last_.clear();
    }
    last_[k] = ns;
}

void RepublishSchedule::published(const uint8_t exporter[16], uint32_t domain, uint16_t template_id,
                                  int64_t ns) {
    remember(key_of(exporter, domain, template_id), ns);
}

bool RepublishSchedule::due(const uint8_t exporter[16], uint32_t domain, uint16_t template_id,
                            int64_t ns) const {
    const auto it = last_.find(key_of(exporter, domain, template_id));
    return it == last_.end() || ns < it->second || ns - it->second >= interval_ns_;
}

}  // namespace tapsift::flow
