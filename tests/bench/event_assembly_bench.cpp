// Host event assembly, one core: a parsed record ► its ECS JSON document (the host's largest
// per-event cost; issue 12's profile). Run from a release build:
//   build/tests/bench/event_assembly_bench
// Inputs: scripts/make-syslog-pcap's load message (the one scripts/pipeline-cost and
// scripts/bench send), an RFC 3164 CEF line, and a NetFlow v5 record.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "event/cef_leef.hpp"
#include "event/flow_event.hpp"
#include "event/syslog_event.hpp"
#include "flow_harness.hpp"
#include "kernel_harness.hpp"

using namespace tapsift;

namespace {

const event::EventContext kContext{"tap1", "2026-11-01T00:00:00.000Z"};

wire::IngestRecordHeader sender() {
    wire::IngestRecordHeader rec{};
    const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
    std::memcpy(rec.src_addr, v4, sizeof v4);
    rec.src_port = 40007;
    rec.packet_seq = 7;
    return rec;
}

void assemble_syslog(benchmark::State &state, const std::string &message, bool cef) {
    const testing::ParsedSyslog p = testing::parse_message(message);
    const wire::IngestRecordHeader rec = sender();
    const auto *payload = reinterpret_cast<const uint8_t *>(p.payload.data());
    event::EventAnnotations annotations;
    event::SecEvent sec;
    if (cef) {
        std::string why;
        if (!event::parse_cef_leef(event::cef_leef_text(payload, p.d), sec, &why)) {
            state.SkipWithError("the CEF input does not parse");
            return;
        }
        annotations.sec = &sec;
    }
    std::string out;
    for (auto _ : state) {
        event::assemble_syslog_event(rec, "198.51.100.7", payload, p.d, kContext, &annotations,
                                     out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["event_bytes"] = static_cast<double>(out.size());
}

void BM_SyslogEventLoadMessage(benchmark::State &state) {
    assemble_syslog(state,
                    "<134>1 2026-11-01T00:00:00.000Z fw07.example.com tapsift-load 1007 ID8 "
                    "[load@32473 seq=\"8\"] event id=8 " +
                        std::string(180, 'x'),
                    false);
}

void BM_SyslogEventCef(benchmark::State &state) {
    assemble_syslog(state,
                    "<134>Nov  1 00:00:00 fw07 CEF:0|Security|threatmanager|1.0|100|worm "
                    "successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 dpt=80 "
                    "act=blocked suser=alice request=http://example.com/x app=HTTPS proto=TCP",
                    true);
}

void BM_FlowEventNetflowV5(benchmark::State &state) {
    testing::FlowEngine engine;
    const testing::Datagram d{
        testing::v5_packet(100000, 1700000000, 0, 0, 0,
                           {testing::v5_record(0xc0000201, 0xc6336401, 5353, 443)}),
        wire::RecordKind::kNetflowV5};
    const auto items = engine.records({d});
    if (items.empty()) {
        state.SkipWithError("the v5 record did not parse");
        return;
    }
    wire::IngestRecordHeader h = sender();
    h.payload_len = static_cast<uint16_t>(d.payload.size());
    const event::FlowRecordView view{
        h,    d.payload.data(), items.front(), wire::kNetflowV5Template, wire::kNetflowV5Fields, 0,
        false};
    event::FlowEventContext ctx;
    ctx.created = "2026-11-01T00:00:00.000Z";
    std::string out;
    for (auto _ : state) {
        event::assemble_flow_event(view, "198.51.100.7", ctx, out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    state.counters["event_bytes"] = static_cast<double>(out.size());
}

}  // namespace

BENCHMARK(BM_SyslogEventLoadMessage);
BENCHMARK(BM_SyslogEventCef);
BENCHMARK(BM_FlowEventNetflowV5);
BENCHMARK_MAIN();
