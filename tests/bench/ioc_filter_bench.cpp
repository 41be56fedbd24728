// Threat-intel indicators at scale: 1,000,000 indicators loaded from plain text, the exact set's
// memory, the filter's build time, the kernel query rate (hits, misses) and the measured
// false-positive rate against the blocked Bloom filter's expected rate, for 4 MiB and 16 MiB
// filters.
//   ioc_filter_bench --benchmark_counters_tabular=true
// Indicators (deterministic): 90% IPv4 /32, 5% IPv4 CIDRs (/24 mostly, some /16, /20, /28),
// 5% IPv6 (/128 and /64 halves). Hit queries are indicators or addresses inside them; miss
// queries are random addresses (90% IPv4) that the exact set confirms are not indicators.
// Queries run against the filter where build_filter left it (a std::vector, as Ruleset keeps it:
// its blocks are not 64-byte aligned, so a block usually spans two cache lines; words_mod64 says
// where they start) and against a 64-byte aligned copy (aligned:1, one cache line per block).
// BM_IocFilterQueryHot repeats 256 miss addresses, whose blocks stay cached: the compute cost of a
// lookup, as when a syslog source sends the same few addresses over and over.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "prefilter/ioc_filter.hpp"
#include "ioc_testing.hpp"
#include "sift/ioc_set.hpp"

using namespace tapsift;

namespace {

using testing::Addr;
using testing::blocked_fp_rate;
using testing::splitmix64;
using testing::v4;

constexpr int kIndicators = 1000000;
constexpr int kQueries = 1 << 20;
const char kFile[] = "/etc/tapsift/ioc/feed-1m.txt";  // a realistic path: each Indicator keeps it

Addr v6(uint64_t hi, uint64_t lo) {
    Addr out{};
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
        out[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    return out;
}

std::string text_of(const Addr &a) {
    char buf[INET6_ADDRSTRLEN];
    if (hls_kernels::is_v4_mapped(a.data())) {
        inet_ntop(AF_INET, a.data() + 12, buf, sizeof buf);
    } else {
        inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
    }
    return buf;
}

struct Corpus {
    std::string text;
    std::vector<Addr> hits;  // an address inside each indicator
};

// Indicator i, and an address it holds (its network with random host bits).
Corpus make_corpus() {
    Corpus c;
    c.text.reserve(kIndicators * 24);
    uint64_t rng = 2024;
    for (int i = 0; i < kIndicators; ++i) {
        const uint64_t r = splitmix64(rng);
        const int bucket = i % 100;
        if (bucket < 90) {
            const Addr a = v4(static_cast<uint32_t>(r));
            c.text += text_of(a) + "\n";
            c.hits.push_back(a);
        } else if (bucket < 95) {
            static const uint32_t kLens[5] = {24, 24, 16, 20, 28};
            const uint32_t len = kLens[bucket - 90];
            const uint32_t net = static_cast<uint32_t>(r) & (~0u << (32 - len));
            c.text += text_of(v4(net)) + "/" + std::to_string(len) + "\n";
            c.hits.push_back(v4(net | (static_cast<uint32_t>(r >> 32) & ~(~0u << (32 - len)))));
        } else {
            const uint64_t hi = 0x2001000000000000ULL | (r >> 16);
            const uint64_t lo = splitmix64(rng);
            if (bucket < 98) {
                c.text += text_of(v6(hi, lo)) + "\n";
                c.hits.push_back(v6(hi, lo));
            } else {
                c.text += text_of(v6(hi, 0)) + "/64\n";
                c.hits.push_back(v6(hi, lo));
            }
        }
    }
    return c;
}

const Corpus &corpus() {
    static const Corpus c = make_corpus();
    return c;
}

const sift::IocSet &loaded() {
    static const sift::IocSet s = [] {
        sift::IocSet set;
        set.load_text(corpus().text, kFile);
        return set;
    }();
    return s;
}

// Random addresses the exact set does not hold.
const std::vector<Addr> &misses() {
    static const std::vector<Addr> m = [] {
        std::vector<Addr> out;
        uint64_t rng = 99;
        while (out.size() < kQueries) {
            const uint64_t r = splitmix64(rng);
            const Addr a = r % 10 != 0 ? v4(static_cast<uint32_t>(r >> 16))
                                       : v6(0x2001000000000000ULL | (r >> 16), splitmix64(rng));
            if (loaded().lookup(a.data()) == nullptr) out.push_back(a);
        }
        return out;
    }();
    return m;
}

const std::vector<Addr> &hits() {
    static const std::vector<Addr> h = [] {
        std::vector<Addr> out;
        uint64_t rng = 7;
        for (int i = 0; i < kQueries; ++i) {
            out.push_back(corpus().hits[splitmix64(rng) % corpus().hits.size()]);
        }
        return out;
    }();
    return h;
}

uint64_t rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// A built filter, and a 64-byte aligned copy of it.
struct Filter {
    std::vector<uint64_t> words;    // as build_filter returns it
    std::vector<uint64_t> storage;  // room for the aligned copy
    const uint64_t *aligned = nullptr;

    explicit Filter(std::vector<uint64_t> built) : words(std::move(built)) {
        storage.resize(words.size() + 8);
        uint64_t *p = storage.data();
        while (reinterpret_cast<uintptr_t>(p) % 64 != 0) ++p;
        std::copy(words.begin(), words.end(), p);
        aligned = p;
    }
    const uint64_t *base(bool align) const { return align ? aligned : words.data(); }
    const wire::IocFilterHeader &header() const {
        return *reinterpret_cast<const wire::IocFilterHeader *>(words.data());
    }
    const uint64_t *bits(bool align) const {
        return base(align) + sizeof(wire::IocFilterHeader) / 8;
    }
};

const Filter &filter(uint32_t mib) {
    static Filter f4{loaded().build_filter(4u << 20)};
    static Filter f16{loaded().build_filter(16u << 20)};
    return mib == 4 ? f4 : f16;
}

void BM_IocLoad1M(benchmark::State &state) {
    const std::string &text = corpus().text;
    for (auto _ : state) {
        const uint64_t rss0 = rss_bytes();
        const auto t0 = std::chrono::steady_clock::now();
        sift::IocSet set;
        set.load_text(text, kFile);
        const auto t1 = std::chrono::steady_clock::now();
        const double rss = static_cast<double>(rss_bytes() - rss0);
        state.counters["indicators"] = static_cast<double>(set.size());
        state.counters["load_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();
        state.counters["rss_MiB"] = rss / (1 << 20);
        state.counters["B_per_ind"] = rss / static_cast<double>(set.size());
        benchmark::DoNotOptimize(set);
    }
    state.counters["sizeof_Indicator"] = sizeof(sift::Indicator);
}
BENCHMARK(BM_IocLoad1M)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_IocFilterBuild(benchmark::State &state) {
    const uint32_t bytes = static_cast<uint32_t>(state.range(0)) << 20;
    const sift::IocSet &set = loaded();
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<uint64_t> f = set.build_filter(bytes);
        const auto t1 = std::chrono::steady_clock::now();
        state.counters["build_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();
        const auto *h = reinterpret_cast<const wire::IocFilterHeader *>(f.data());
        state.counters["hashes"] = h->hashes;
        benchmark::DoNotOptimize(f.data());
    }
}
BENCHMARK(BM_IocFilterBuild)->Arg(4)->Arg(16)->Iterations(3)->Unit(benchmark::kMillisecond);

// Kernel queries: hits (args: MiB, 1) or misses (MiB, 0), against the filter as built or its
// aligned copy; for misses, the measured false-positive rate over all of them, the blocked
// filter's expected rate per query (each length in use of the query's family is one key tried)
// and per key, and the classic filter's rate per key at the same size for comparison.
void BM_IocFilterQuery(benchmark::State &state) {
    const Filter &f = filter(static_cast<uint32_t>(state.range(0)));
    const bool hit = state.range(1) != 0;
    const bool align = state.range(2) != 0;
    const std::vector<Addr> &q = hit ? hits() : misses();
    const uint64_t *bits = f.bits(align);
    size_t i = 0;
    uint64_t maybe = 0;
    for (auto _ : state) {
        maybe += hls_kernels::ioc_filter_maybe(f.header(), bits, q[i].data()) ? 1 : 0;
        i = (i + 1) & (q.size() - 1);
    }
    state.counters["lookups_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["words_mod64"] = static_cast<double>(reinterpret_cast<uintptr_t>(bits) % 64);
    if (hit) {
        state.counters["maybe_rate"] =
            static_cast<double>(maybe) / static_cast<double>(state.iterations());
        return;
    }
    const wire::IocFilterHeader &h = f.header();
    const double m = std::ldexp(1.0, h.bits_log2);
    const double k = h.hashes;
    const double per_key = blocked_fp_rate(m, h.indicators, k);
    const int v4_keys = __builtin_popcountll(h.v4_lengths);
    const int v6_keys = __builtin_popcountll(h.v6_lengths[0]) +
                        __builtin_popcountll(h.v6_lengths[1]) +
                        __builtin_popcountll(h.v6_lengths[2]);
    uint64_t fp = 0;
    double expected = 0;
    for (const Addr &a : q) {
        fp += hls_kernels::ioc_filter_maybe(h, bits, a.data());
        const int keys = hls_kernels::is_v4_mapped(a.data()) ? v4_keys : v6_keys;
        expected += 1 - std::pow(1 - per_key, keys);
    }
    state.counters["fp_rate"] = static_cast<double>(fp) / static_cast<double>(q.size());
    state.counters["fp_expected"] = expected / static_cast<double>(q.size());
    state.counters["fp_exp_per_key"] = per_key;
    state.counters["fp_classic_per_key"] = std::pow(1 - std::exp(-k * h.indicators / m), k);
}
BENCHMARK(BM_IocFilterQuery)
    ->ArgsProduct({{4, 16}, {1, 0}, {0, 1}})
    ->ArgNames({"MiB", "hit", "aligned"});

// Misses over a working set of 256 addresses (the first of misses()), whose blocks stay cached.
void BM_IocFilterQueryHot(benchmark::State &state) {
    const Filter &f = filter(4);
    const std::vector<Addr> &q = misses();
    const uint64_t *bits = f.bits(false);
    size_t i = 0;
    uint64_t maybe = 0;
    for (auto _ : state) {
        maybe += hls_kernels::ioc_filter_maybe(f.header(), bits, q[i].data()) ? 1 : 0;
        i = (i + 1) & 255;
    }
    benchmark::DoNotOptimize(maybe);
    state.counters["lookups_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IocFilterQueryHot);

// The host's exact confirmation (longest-prefix match) of hits and misses.
void BM_IocExactLookup(benchmark::State &state) {
    const sift::IocSet &set = loaded();
    const std::vector<Addr> &q = state.range(0) ? hits() : misses();
    size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(set.lookup(q[i].data()));
        i = (i + 1) & (q.size() - 1);
    }
    state.counters["lookups_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IocExactLookup)->Arg(1)->Arg(0)->ArgName("hit");

}  // namespace

BENCHMARK_MAIN();
