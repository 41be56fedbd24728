// Throughput of sflow_parse on the cpu backend (C simulation compiled with -O3), one core: sFlow
// samples per second, for the datagram shapes agents send.
//   build/tests/bench/sflow_parse_bench
// Each batch holds 256 datagrams, packed as the RX loop packs them.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "flow_harness.hpp"
#include "ingest_batch_builder.hpp"
#include "sflow_parse/sflow_parse.hpp"

using namespace tapsift;
using testing::be;
using testing::Bytes;
using testing::cat;

namespace {

Bytes record(uint32_t format, const Bytes &body) {
    return cat({be(format, 4), be(static_cast<uint32_t>(body.size()), 4), body});
}

Bytes datagram(uint32_t samples, const Bytes &sample) {
    Bytes d = cat(
        {be(5, 4), be(1, 4), be(0xc0000209, 4), be(0, 4), be(1, 4), be(1000, 4), be(samples, 4)});
    for (uint32_t i = 0; i < samples; ++i) d = cat({d, sample});
    return d;
}

// A switch's flow sample: the first 128 bytes of an Ethernet/802.1Q/IPv4/TCP frame, and
// extended_switch (what Arista/Cisco/Juniper agents send by default).
Bytes flow_sample() {
    Bytes frame =
        cat({be(0x001122334455, 6), be(0x66778899aabb, 6), be(0x8100, 2), be(10, 2), be(0x0800, 2),
             be(0x450005dc, 4), be(0, 4), be(0x40060000, 4), be(0x0a000001, 4), be(0x0a000002, 4),
             be(1234, 2), be(443, 2), be(0, 8), be(0x5018, 2), be(0, 6)});
    frame.resize(128, 0);
    const Bytes records = cat({record(1, cat({be(1, 4), be(1518, 4), be(4, 4), be(128, 4), frame})),
                               record(1001, cat({be(10, 4), be(0, 4), be(10, 4), be(0, 4)}))});
    return record(1, cat({be(1, 4), be(3, 4), be(1024, 4), be(1 << 20, 4), be(0, 4), be(3, 4),
                          be(4, 4), be(2, 4), records}));
}

// An interface's counter sample: generic and Ethernet counters.
Bytes counter_sample() {
    return record(
        2, cat({be(1, 4), be(3, 4), be(2, 4), record(1, Bytes(88, 1)), record(2, Bytes(52, 2))}));
}

void run(benchmark::State &st, const Bytes &d, uint32_t samples_per_datagram) {
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    uint64_t samples_per_batch = 0;
    for (uint32_t i = 0; i < wire::kMaxRecordsPerBatch; ++i) {
        const dataplane::RecordMeta meta{addr, addr, 40000, 6343, wire::RecordKind::kSflowV5,
                                         0,    0,    0,     0,    i + 1u};
        if (!batch.add(meta, d.data(), static_cast<uint32_t>(d.size()))) break;
        samples_per_batch += samples_per_datagram;
    }
    auto items = std::make_unique<hls_kernels::beat_t[]>(size_t{wire::kMaxSflowItemsPerBatch} *
                                                         wire::kSflowItemBeats);
    hls_kernels::SflowParseCounters ctr{};
    for (auto _ : st) {
        benchmark::DoNotOptimize(
            hls_kernels::sflow_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch.data()),
                                     items.get(), wire::kMaxSflowItemsPerBatch, &ctr));
    }
    const uint64_t samples = ctr.flow_samples + ctr.counter_samples;
    if (samples != samples_per_batch * st.iterations() || ctr.items_output_full != 0)
        st.SkipWithError("the kernel did not return every sample");
    st.SetItemsProcessed(static_cast<int64_t>(samples));
    st.SetBytesProcessed(static_cast<int64_t>(batch.size_bytes()) * st.iterations());
    st.counters["samples_per_datagram"] = samples_per_datagram;
}

void BM_SflowFlowSamples(benchmark::State &st) {
    const uint32_t n = static_cast<uint32_t>(st.range(0));
    run(st, datagram(n, flow_sample()), n);
}
BENCHMARK(BM_SflowFlowSamples)->Arg(1)->Arg(8);

void BM_SflowCounterSamples(benchmark::State &st) {
    run(st, datagram(8, counter_sample()), 8);
}
BENCHMARK(BM_SflowCounterSamples);

}  // namespace

BENCHMARK_MAIN();
