// What each kafka.spool.fsync policy costs: appends 600-byte events (the size of a syslog event)
// to a spool for a fixed time, as fast as one thread can, and prints appends/s, MB/s, fsyncs and
// the append latency (p50, p99, max). scripts/spool-fsync-bench runs it for every policy.
//   build/host/spool_bench DIR POLICY SECONDS      POLICY: always | never | N (ms)
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "kafka/spool.hpp"

using namespace tapsift;

int main(int argc, char **argv) {
    if (argc != 4) {
        fmt::print(stderr, "usage: spool_bench DIR always|never|N(ms) SECONDS\n");
        return 2;
    }
    const std::string dir = argv[1];
    const std::string policy = argv[2];
    const double seconds = std::atof(argv[3]);
    std::filesystem::remove_all(dir);
    kafka::SpoolConfig cfg{dir, 64ull << 30, 64ull << 20, kafka::parse_fsync_policy(policy)};
    kafka::Spool spool(cfg);
    // The interval policy is driven by the producer's replayer thread; so it is here.
    std::atomic<bool> stop{false};
    std::thread ticker([&] {
        while (!stop) {
            spool.sync_if_due();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const std::string value(600, 'e');
    std::vector<double> latency_us;
    latency_us.reserve(1 << 22);
    const auto t0 = std::chrono::steady_clock::now();
    const auto end = t0 + std::chrono::duration<double>(seconds);
    auto now = t0;
    while (now < end) {
        const auto a = std::chrono::steady_clock::now();
        if (spool.append("tapsift.syslog", "198.51.100.1", value) !=
            kafka::Spool::AppendResult::kOk) {
            fmt::print(stderr, "append failed\n");
            return 1;
        }
        now = std::chrono::steady_clock::now();
        latency_us.push_back(std::chrono::duration<double, std::micro>(now - a).count());
    }
    stop = true;
    ticker.join();
    const double took = std::chrono::duration<double>(now - t0).count();
    const SpoolCounters st = spool.stats();
    std::sort(latency_us.begin(), latency_us.end());
    const auto pct = [&](double p) {
        return latency_us[std::min(latency_us.size() - 1,
                                   static_cast<size_t>(p * latency_us.size()))];
    };
    fmt::print(
        "policy={} appends={} seconds={:.2f} appends_per_s={:.0f} MB_per_s={:.1f} fsyncs={} "
        "p50_us={:.1f} p99_us={:.1f} max_us={:.0f}\n",
        policy, st.appended, took, st.appended / took, st.bytes / took / 1e6, st.fsyncs, pct(0.50),
        pct(0.99), latency_us.back());
    std::filesystem::remove_all(dir);
    return 0;
}
