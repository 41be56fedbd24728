// Throughput of flow_parse on the cpu backend (C simulation compiled with -O3), one core:
// flow records per second, for the shapes exporters send.
//   build/tests/bench/flow_parse_bench
// Each batch holds 256 datagrams, packed as the RX loop packs them; templates are learned before
// timing, as they are in a running collector.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "flow_harness.hpp"
#include "flow_parse/flow_parse.hpp"
#include "flow_parse/flow_parse_model.hpp"
#include "ingest_batch_builder.hpp"
#include "wire/flow_descriptor.hpp"

using namespace tapsift;
using testing::be;
using testing::Bytes;
using testing::cat;
using testing::Field;

namespace {

// The fields a Cisco-style v9/IPFIX exporter sends for IPv4 flows (45 bytes a record).
const std::vector<Field> kTypicalFields = {{8, 4}, {12, 4}, {15, 4}, {7, 2},  {11, 2},
                                           {4, 1}, {6, 1},  {5, 1},  {10, 4}, {14, 4},
                                           {1, 4}, {2, 4},  {22, 4}, {21, 4}, {16, 2}};

Bytes typical_record(uint32_t i) {
    return cat({be(0x0a000000 + i, 4), be(0xc6336400 + (i & 0xff), 4), be(0x0a0000fe, 4),
                be(1024 + i % 50000, 2), be(443, 2), be(6, 1), be(0x1b, 1), be(0, 1), be(3, 4),
                be(7, 4), be(1500 * (i % 40 + 1), 4), be(i % 40 + 1, 4), be(1000, 4), be(2000, 4),
                be(64512, 2)});
}

Bytes records_of(uint32_t count, Bytes (*make)(uint32_t)) {
    Bytes out;
    for (uint32_t i = 0; i < count; ++i) out = cat({out, make(i)});
    return out;
}

struct Workload {
    std::unique_ptr<dataplane::IngestBatchBuilder> batch;
    std::unique_ptr<wire::FlowParseState> state;
    uint64_t records_per_batch = 0;
    uint64_t payload_bytes = 0;  // UDP payload bytes in one batch
};

Workload workload(const testing::Datagram &templates, const testing::Datagram &data,
                  uint32_t records_per_datagram) {
    Workload w;
    w.state = std::make_unique<wire::FlowParseState>();
    testing::FlowEngine warm;
    warm.run({templates});
    *w.state = *warm.state;
    w.batch = std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch,
                                                              dataplane::Engine::kFlow);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    for (uint32_t i = 0; i < wire::kMaxRecordsPerBatch; ++i) {
        const dataplane::RecordMeta meta{
            addr,  addr, 40000, 2055, data.kind, 0, 0, 0, static_cast<uint64_t>(data.arrival_ns),
            i + 1u};
        if (!w.batch->add(meta, data.payload.data(), static_cast<uint32_t>(data.payload.size())))
            break;
        w.records_per_batch += records_per_datagram;
        w.payload_bytes += data.payload.size();
    }
    return w;
}

void run(benchmark::State &st, Workload &w) {
    auto items = std::make_unique<hls_kernels::beat_t[]>(size_t{wire::kMaxFlowItemsPerBatch} *
                                                         wire::kDescriptorBeats);
    hls_kernels::FlowParseCounters ctr{};
    const hls_kernels::FlowParseConfig cfg{5400LL * 1000000000};
    for (auto _ : st) {
        benchmark::DoNotOptimize(hls_kernels::flow_parse(
            reinterpret_cast<const hls_kernels::beat_t *>(w.batch->data()), items.get(),
            wire::kMaxFlowItemsPerBatch, cfg, w.state.get(), &ctr));
    }
    if (ctr.records != w.records_per_batch * st.iterations() || ctr.items_output_full != 0)
        st.SkipWithError("the kernel did not return every record");
    st.SetItemsProcessed(static_cast<int64_t>(ctr.records));
    st.SetBytesProcessed(static_cast<int64_t>(w.batch->size_bytes()) * st.iterations());
    st.counters["records_per_datagram"] =
        static_cast<double>(w.records_per_batch) / w.batch->records();
    // The cycle model (an estimate for hardware, docs/cycle-model.md): one batch's cycles, and
    // what they imply at 250 and 300 MHz.
    const double cycles = static_cast<double>(hls_kernels::estimated_cycles(ctr)) /
                          static_cast<double>(st.iterations());
    const double records = static_cast<double>(w.records_per_batch);
    const double payload_bits = 8.0 * static_cast<double>(w.payload_bytes);
    st.counters["model_cycles_per_record"] = cycles / records;
    for (const double mhz : {250.0, 300.0}) {
        const std::string at = std::to_string(static_cast<int>(mhz));
        st.counters["model_Mrec_s_" + at + "MHz"] = records * mhz / cycles;
        st.counters["model_Gbps_" + at + "MHz"] = payload_bits * mhz * 1e6 / cycles / 1e9;
    }
}

void BM_NetflowV5(benchmark::State &st) {
    std::vector<Bytes> records;
    for (uint32_t i = 0; i < 30; ++i)
        records.push_back(testing::v5_record(0x0a000000 + i, 0xc6336401, 1024 + i, 443));
    const Bytes pkt = testing::v5_packet(100000, 1700000000, 0, 0, 0, records);
    const testing::Datagram d{pkt, wire::RecordKind::kNetflowV5};
    Workload w = workload(d, d, 30);
    run(st, w);
}

void BM_NetflowV9(benchmark::State &st) {
    const auto t = testing::v9(
        testing::v9_packet(0, 0, 0, {testing::template_set(false, 300, kTypicalFields)}));
    const auto d = testing::v9(testing::v9_packet(
        0, 5000, 1700000000, {testing::data_set(300, records_of(30, typical_record))}));
    Workload w = workload(t, d, 30);
    run(st, w);
}

void BM_Ipfix(benchmark::State &st) {
    const auto t = testing::ipfix(
        testing::ipfix_message(0, 0, {testing::template_set(true, 300, kTypicalFields)}));
    const auto d = testing::ipfix(testing::ipfix_message(
        0, 1700000000, {testing::data_set(300, records_of(30, typical_record))}));
    Workload w = workload(t, d, 30);
    run(st, w);
}

// Worst case: one 1-byte field per record, 60 records a datagram (the batch's item capacity holds
// 63 a datagram).
void BM_IpfixOneByteRecords(benchmark::State &st) {
    const auto t =
        testing::ipfix(testing::ipfix_message(0, 0, {testing::template_set(true, 300, {{4, 1}})}));
    const auto d = testing::ipfix(
        testing::ipfix_message(0, 1700000000, {testing::data_set(300, Bytes(60, 6))}));
    Workload w = workload(t, d, 60);
    run(st, w);
}

}  // namespace

BENCHMARK(BM_NetflowV5)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_NetflowV9)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Ipfix)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IpfixOneByteRecords)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
