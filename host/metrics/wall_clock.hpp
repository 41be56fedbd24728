// UTC nanoseconds since the epoch: arrival stamps, event.created, spool records, delivery times.
#pragma once

#include <chrono>
#include <cstdint>

namespace tapsift {

inline int64_t wall_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace tapsift
