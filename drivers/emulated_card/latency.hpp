// Injected latency: waits until a deadline with microsecond precision (a sleep alone
// overshoots by tens of microseconds, more than a modelled 2 us DMA).
#pragma once

#include <chrono>

namespace tapsift::emu {

void wait_until(std::chrono::steady_clock::time_point deadline);

}  // namespace tapsift::emu
