// Throughput of syslog_parse on the cpu backend (C simulation compiled with -O3), one core; and
// of syslog over TCP: reassembly + RFC 6587 framing + batch packing + the same parse.
//   build/tests/bench/syslog_parse_bench
// Messages: every raw input of the shipped corpus (rsyslog parser tests, fuzz seeds, telegraf
// cases), packed into full ingest batches exactly as the RX loop packs them.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "ingest_batch_builder.hpp"
#include "syslog_tcp_connections.hpp"
#include "syslog_corpus.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "syslog_parse/syslog_parse_model.hpp"
#include "wire/descriptor.hpp"

using namespace tapsift;

namespace {

struct Batches {
    std::vector<std::unique_ptr<dataplane::IngestBatchBuilder>> batches;
    uint64_t bytes = 0;
    uint64_t records = 0;
};

Batches pack(const std::vector<std::string> &msgs, size_t min_records) {
    Batches b;
    const uint8_t addr[16] = {};
    b.batches.push_back(std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch));
    for (size_t i = 0; b.records < min_records; ++i) {
        const std::string &m = msgs[i % msgs.size()];
        const dataplane::RecordMeta meta{
            addr, addr, 1, 514, wire::RecordKind::kSyslog, 0, 0, 0, 1793491200ULL * 1000000000ULL,
            i + 1};
        const auto *p = reinterpret_cast<const uint8_t *>(m.data());
        if (!b.batches.back()->add(meta, p, static_cast<uint32_t>(m.size()))) {
            b.batches.push_back(
                std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch));
            b.batches.back()->add(meta, p, static_cast<uint32_t>(m.size()));
        }
        b.bytes += m.size();
        b.records++;
    }
    return b;
}

void run(benchmark::State &state, const std::vector<std::string> &msgs) {
    const Batches b = pack(msgs, 64 * 1024);
    std::vector<hls_kernels::beat_t> out(wire::kMaxRecordsPerBatch * wire::kDescriptorBeats);
    hls_kernels::SyslogParseCounters ctr{};
    for (auto _ : state) {
        for (const auto &batch : b.batches) {
            hls_kernels::syslog_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch->data()),
                                      out.data(), 0, &ctr);
        }
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.bytes));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * b.records));
    state.counters["avg_msg_bytes"] = static_cast<double>(b.bytes) / static_cast<double>(b.records);
    // The cycle model over one pass of the batches (an estimate, not a measurement).
    hls_kernels::SyslogParseCounters once{};
    for (const auto &batch : b.batches) {
        hls_kernels::syslog_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch->data()),
                                  out.data(), 0, &once);
    }
    state.counters["model_cycles_per_msg"] =
        static_cast<double>(hls_kernels::estimated_cycles(once)) /
        static_cast<double>(once.records);
    state.counters["model_Gbps_250MHz"] = hls_kernels::estimated_gbps(once, b.bytes, 250e6);
    state.counters["model_Gbps_300MHz"] = hls_kernels::estimated_gbps(once, b.bytes, 300e6);
}

void BM_SyslogParseCorpus(benchmark::State &state) {
    run(state, testing::syslog_corpus_messages(TAPSIFT_TEST_CORPUS));
}

// A typical 250-byte RFC 5424 message with structured data.
void BM_SyslogParseRfc5424Typical(benchmark::State &state) {
    std::string m =
        "<165>1 2026-11-28T06:00:00.123456Z fw01.example.com sshd 4242 AUTH [meta@32473 "
        "sequence=\"1\" "
        "origin=\"10.0.0.1\"] Accepted publickey for admin from 192.0.2.10 port 51122 ssh2: "
        "ED25519 SHA256:";
    m.resize(250, 'x');
    run(state, {m});
}

// A typical RFC 3164 firewall line.
const char *const kRfc3164Typical =
    "<134>Nov 28 06:00:00 fw01 %ASA-6-302013: Built outbound TCP connection 123456 for "
    "outside:198.51.100.7/443 (198.51.100.7/443) to inside:10.1.2.3/51544 (203.0.113.9/51544)";

void BM_SyslogParseRfc3164Typical(benchmark::State &state) {
    run(state, {kRfc3164Typical});
}

// Worst cases for the model: the smallest message (a 64-byte frame carries 22 bytes of syslog),
// and long structured data, which is scanned a byte at a time.
void BM_SyslogParseWorstTiny(benchmark::State &state) {
    run(state, {"<13>1 - h a - - - x"});
}

void BM_SyslogParseWorstLongSd(benchmark::State &state) {
    std::string sd = "<13>1 2026-11-28T06:00:00Z h a - - [x@1";
    for (int i = 0; i < 40; ++i)
        sd += " k" + std::to_string(i) + "=\"value-" + std::to_string(i) + "\"";
    run(state, {sd + "] m"});
}

// Framed messages packed into ingest batches as the RX loop packs UDP ones, each full batch parsed.
struct ParseSink final : dataplane::SyslogTcpMessageSink {
    ParseSink() : out(wire::kMaxRecordsPerBatch * wire::kDescriptorBeats) {}
    void on_message(const dataplane::TcpFlowKey &flow, const uint8_t *data, size_t len) override {
        const dataplane::RecordMeta meta{flow.client_addr,
                                         flow.server_addr,
                                         flow.client_port,
                                         flow.server_port,
                                         wire::RecordKind::kSyslog,
                                         0,
                                         0,
                                         0,
                                         1793491200ULL * 1000000000ULL,
                                         ++seq};
        if (!batch.add(meta, data, static_cast<uint32_t>(len))) {
            parse();
            batch.add(meta, data, static_cast<uint32_t>(len));
        }
    }
    void parse() {
        hls_kernels::syslog_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch.data()),
                                  out.data(), 0, &ctr);
        batch.reset();
    }
    dataplane::IngestBatchBuilder batch{wire::kMaxRecordsPerBatch};
    std::vector<hls_kernels::beat_t> out;
    hls_kernels::SyslogParseCounters ctr{};
    uint64_t seq = 0;
};

// One connection's stream of the message, framed, cut into 1448-byte segments (a 1500-byte MTU
// with TCP timestamps), fed through the connection table in order.
void run_tcp(benchmark::State &state, const std::string &msg, bool octet_counting) {
    std::string stream;
    uint64_t records = 0;
    while (stream.size() < (4u << 20)) {
        stream += octet_counting ? std::to_string(msg.size()) + " " + msg : msg + "\n";
        ++records;
    }
    constexpr uint32_t kMss = 1448;
    const dataplane::SyslogTcpLimits limits{16,       256 * 1024, 1024 * 1024,
                                            1u << 20, 8192,       60'000'000'000ull};
    dataplane::TcpFlowKey flow{};
    flow.client_port = 40000;
    flow.server_port = 514;
    ParseSink sink;
    for (auto _ : state) {
        dataplane::SyslogTcpConnections table(limits);
        const uint32_t isn = 1000;
        table.on_segment(flow, dataplane::TcpSegment{isn, true, false, false, nullptr, 0}, 0, sink);
        for (uint32_t off = 0; off < stream.size(); off += kMss) {
            const uint32_t len =
                std::min<uint32_t>(kMss, static_cast<uint32_t>(stream.size()) - off);
            table.on_segment(
                flow,
                dataplane::TcpSegment{isn + 1 + off, false, false, false,
                                      reinterpret_cast<const uint8_t *>(stream.data()) + off, len},
                0, sink);
        }
        table.close_all(sink);
        if (!sink.batch.empty()) sink.parse();
        benchmark::DoNotOptimize(sink.out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
}

void BM_SyslogTcpOctetCountingRfc3164Typical(benchmark::State &state) {
    run_tcp(state, kRfc3164Typical, true);
}

void BM_SyslogTcpLfRfc3164Typical(benchmark::State &state) {
    run_tcp(state, kRfc3164Typical, false);
}

}  // namespace

BENCHMARK(BM_SyslogTcpOctetCountingRfc3164Typical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogTcpLfRfc3164Typical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogParseCorpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogParseRfc5424Typical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogParseRfc3164Typical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogParseWorstTiny)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyslogParseWorstLongSd)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
