// The card's counters (include/tapsift_emu_stats.h): lock-free increments from the API calls and
// the compute-unit threads.
#pragma once

#include <cstdint>
#include <string>

namespace tapsift::emu {

struct CuCounters;

// The counters of one compute unit, created on first use, alive until the process exits.
CuCounters &cu_counters(const std::string &cu_name);

void count_sync(bool to_device, uint64_t bytes);
void count_allocation(uint64_t bytes);
void count_bounds_error();
struct RunNumbers {
    uint64_t process;  // this run is the process's nth (since a reset)
    uint64_t cu;       // and its CU's nth
};
RunNumbers count_run_started(CuCounters &cu);
struct RunSpan {
    uint64_t start_ns, end_ns;  // steady clock
};
void count_run_completed(CuCounters &cu, RunSpan span, bool corrupted);
void count_run_error(CuCounters &cu, RunSpan span);
void count_run_aborted(CuCounters &cu);

}  // namespace tapsift::emu
