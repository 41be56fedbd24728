#include "emu_stats.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "tapsift_emu_stats.h"

namespace tapsift::emu {

struct CuCounters {
    char name[sizeof(tapsift_emu_cu_stats::name)];
    std::atomic<uint64_t> runs_started, runs_completed, runs_error, runs_aborted, runs_corrupted,
        busy_ns, first_start_ns, last_end_ns;
};

namespace {

struct Counters {
    std::atomic<uint64_t> syncs_to_device, bytes_to_device, syncs_from_device, bytes_from_device,
        buffers_allocated, bytes_allocated, runs_started, bounds_errors;
    std::mutex cu_mutex;  // guards cu_count and names; the counters themselves are atomic
    std::atomic<uint32_t> cu_count;
    CuCounters cu[TAPSIFT_EMU_MAX_CUS];
};

Counters g_counters;

void add(std::atomic<uint64_t> &c, uint64_t n) {
    c.fetch_add(n, std::memory_order_relaxed);
}

uint64_t get(const std::atomic<uint64_t> &c) {
    return c.load(std::memory_order_relaxed);
}

// TAPSIFT_EMU_STATS=path: the counters as JSON when the process exits (or the .so is unloaded).
struct StatsFileAtExit {
    ~StatsFileAtExit() {
        const char *path = std::getenv("TAPSIFT_EMU_STATS");
        if (path == nullptr || *path == '\0') return;
        tapsift_emu_stats s{};
        tapsift_emu_get_stats(&s);
        FILE *f = std::fopen(path, "w");
        if (f == nullptr) {
            std::fprintf(stderr, "emulated card: cannot write TAPSIFT_EMU_STATS=%s\n", path);
            return;
        }
        std::fprintf(f,
                     "{\"syncs_to_device\": %llu, \"bytes_to_device\": %llu, "
                     "\"syncs_from_device\": %llu, \"bytes_from_device\": %llu, "
                     "\"buffers_allocated\": %llu, \"bytes_allocated\": %llu, "
                     "\"runs_started\": %llu, \"bounds_errors\": %llu, \"compute_units\": {",
                     (unsigned long long)s.syncs_to_device, (unsigned long long)s.bytes_to_device,
                     (unsigned long long)s.syncs_from_device,
                     (unsigned long long)s.bytes_from_device,
                     (unsigned long long)s.buffers_allocated, (unsigned long long)s.bytes_allocated,
                     (unsigned long long)s.runs_started, (unsigned long long)s.bounds_errors);
        for (uint32_t i = 0; i < s.cu_count; ++i) {
            const tapsift_emu_cu_stats &c = s.cu[i];
            std::fprintf(f,
                         "%s\"%s\": {\"runs_started\": %llu, \"runs_completed\": %llu, "
                         "\"runs_error\": %llu, \"runs_aborted\": %llu, \"runs_corrupted\": %llu, "
                         "\"busy_ns\": %llu, \"active_ns\": %llu}",
                         i ? ", " : "", c.name, (unsigned long long)c.runs_started,
                         (unsigned long long)c.runs_completed, (unsigned long long)c.runs_error,
                         (unsigned long long)c.runs_aborted, (unsigned long long)c.runs_corrupted,
                         (unsigned long long)c.busy_ns, (unsigned long long)c.active_ns);
        }
        std::fprintf(f, "}}\n");
        std::fclose(f);
    }
};

StatsFileAtExit g_stats_file_at_exit;  // after g_counters: destroyed before it

}  // namespace

CuCounters &cu_counters(const std::string &cu_name) {
    std::lock_guard<std::mutex> lock(g_counters.cu_mutex);
    const uint32_t n = g_counters.cu_count.load();
    for (uint32_t i = 0; i < n; ++i) {
        if (cu_name == g_counters.cu[i].name) return g_counters.cu[i];
    }
    if (n == TAPSIFT_EMU_MAX_CUS || cu_name.size() >= sizeof(CuCounters::name)) {
        throw std::length_error("emulated card: no room for the counters of compute unit " +
                                cu_name);
    }
    CuCounters &c = g_counters.cu[n];
    std::memcpy(c.name, cu_name.c_str(), cu_name.size() + 1);
    g_counters.cu_count.store(n + 1);
    return c;
}

void count_sync(bool to_device, uint64_t bytes) {
    add(to_device ? g_counters.syncs_to_device : g_counters.syncs_from_device, 1);
    add(to_device ? g_counters.bytes_to_device : g_counters.bytes_from_device, bytes);
}

void count_allocation(uint64_t bytes) {
    add(g_counters.buffers_allocated, 1);
    add(g_counters.bytes_allocated, bytes);
}

void count_bounds_error() {
    add(g_counters.bounds_errors, 1);
}

RunNumbers count_run_started(CuCounters &cu) {
    return {g_counters.runs_started.fetch_add(1) + 1, cu.runs_started.fetch_add(1) + 1};
}

namespace {

// A CU runs one command at a time, on its own thread: only a reset races with these stores.
void count_busy(CuCounters &cu, RunSpan span) {
    add(cu.busy_ns, span.end_ns - span.start_ns);
    uint64_t unset = 0;
    cu.first_start_ns.compare_exchange_strong(unset, span.start_ns);
    cu.last_end_ns.store(span.end_ns, std::memory_order_relaxed);
}

}  // namespace

void count_run_completed(CuCounters &cu, RunSpan span, bool corrupted) {
    add(cu.runs_completed, 1);
    if (corrupted) add(cu.runs_corrupted, 1);
    count_busy(cu, span);
}

void count_run_error(CuCounters &cu, RunSpan span) {
    add(cu.runs_error, 1);
    count_busy(cu, span);
}

void count_run_aborted(CuCounters &cu) {
    add(cu.runs_aborted, 1);
}

}  // namespace tapsift::emu

using tapsift::emu::g_counters;

extern "C" int tapsift_emu_get_stats(struct tapsift_emu_stats *out) {
    using tapsift::emu::get;
    std::memset(out, 0, sizeof *out);
    out->syncs_to_device = get(g_counters.syncs_to_device);
    out->bytes_to_device = get(g_counters.bytes_to_device);
    out->syncs_from_device = get(g_counters.syncs_from_device);
    out->bytes_from_device = get(g_counters.bytes_from_device);
    out->buffers_allocated = get(g_counters.buffers_allocated);
    out->bytes_allocated = get(g_counters.bytes_allocated);
    out->runs_started = get(g_counters.runs_started);
    out->bounds_errors = get(g_counters.bounds_errors);
    std::lock_guard<std::mutex> lock(g_counters.cu_mutex);
    out->cu_count = g_counters.cu_count.load();
    for (uint32_t i = 0; i < out->cu_count; ++i) {
        const tapsift::emu::CuCounters &c = g_counters.cu[i];
        tapsift_emu_cu_stats &o = out->cu[i];
        std::memcpy(o.name, c.name, sizeof o.name);
        o.runs_started = get(c.runs_started);
        o.runs_completed = get(c.runs_completed);
        o.runs_error = get(c.runs_error);
        o.runs_aborted = get(c.runs_aborted);
        o.runs_corrupted = get(c.runs_corrupted);
        o.busy_ns = get(c.busy_ns);
        const uint64_t first = get(c.first_start_ns), last = get(c.last_end_ns);
        o.active_ns = last > first ? last - first : 0;
    }
    return 0;
}

extern "C" void tapsift_emu_stats_reset(void) {
    for (auto *c :
         {&g_counters.syncs_to_device, &g_counters.bytes_to_device, &g_counters.syncs_from_device,
          &g_counters.bytes_from_device, &g_counters.buffers_allocated, &g_counters.bytes_allocated,
          &g_counters.runs_started, &g_counters.bounds_errors}) {
        c->store(0);
    }
    std::lock_guard<std::mutex> lock(g_counters.cu_mutex);
    for (tapsift::emu::CuCounters &c : g_counters.cu) {
        for (auto *v : {&c.runs_started, &c.runs_completed, &c.runs_error, &c.runs_aborted,
                        &c.runs_corrupted, &c.busy_ns, &c.first_start_ns, &c.last_end_ns}) {
            v->store(0);
        }
    }
}
