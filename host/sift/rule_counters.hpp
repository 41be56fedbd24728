// What each rule did, counted per lcore by the Sifter and summed for the table at exit and the
// metrics endpoint.
#pragma once

#include <cstdint>

namespace tapsift::sift {

struct RuleCounters {
    uint64_t matched = 0;  // the rule's predicates held and it was reached
    uint64_t dropped = 0;  // drop, and sample's unselected matches
    uint64_t kept = 0;     // keep, and sample's selected matches
    uint64_t routed = 0;   // route
    uint64_t tagged = 0;   // tag

    RuleCounters &operator+=(const RuleCounters &o) {
        matched += o.matched;
        dropped += o.dropped;
        kept += o.kept;
        routed += o.routed;
        tagged += o.tagged;
        return *this;
    }
};

}  // namespace tapsift::sift
