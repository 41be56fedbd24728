// What counting a datagram's source costs the lcore (host/metrics/top_sources.hpp): a table of
// 4 x metrics.top_sources entries, sources uniformly interleaved (the worst case: no runs).
// Past the table's capacity almost every datagram replaces an entry.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "metrics/top_sources.hpp"

namespace {

void BM_CountSource(benchmark::State &state) {
    const size_t capacity = static_cast<size_t>(state.range(0));
    const uint32_t sources = static_cast<uint32_t>(state.range(1));
    std::vector<tapsift::TopSources::Address> addresses(1 << 16);
    std::mt19937 rng(1);
    for (auto &a : addresses) {
        const uint32_t r = rng() % sources;
        a = {0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0,
             0xff,
             0xff,
             10,
             static_cast<uint8_t>(r >> 16),
             static_cast<uint8_t>(r >> 8),
             static_cast<uint8_t>(r)};
    }
    tapsift::TopSources table(capacity);
    size_t i = 0;
    for (auto _ : state) {
        table.count(addresses[i].data());
        i = (i + 1) & (addresses.size() - 1);
    }
    benchmark::DoNotOptimize(table.total());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CountSource)->ArgsProduct({{80, 4000}, {8, 3000, 100000}});

}  // namespace

BENCHMARK_MAIN();
