#include "latency.hpp"

#include <thread>

namespace tapsift::emu {

void wait_until(std::chrono::steady_clock::time_point deadline) {
    using namespace std::chrono_literals;
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return;
        if (deadline - now > 200us) {
            std::this_thread::sleep_for(deadline - now - 100us);
        } else {
            std::this_thread::yield();
        }
    }
}

}  // namespace tapsift::emu
