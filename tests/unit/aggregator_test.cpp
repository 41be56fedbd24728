// Aggregation mode: windows of flow time, keys, sampling, the table's bound, the accounting
// identity, and the config keys.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "event/flow_event.hpp"
#include "flow/aggregator.hpp"

namespace tapsift::flow {
namespace {

constexpr int64_t kS = 1000000000;
constexpr int64_t kT0 = 1793491200 * kS;  // 2026-11-01T00:00:00Z, a window boundary

struct Emitted {
    std::string kafka_key;
    std::string json;
    uint64_t records;
};

struct Collect final : AggregateSink {
    std::vector<Emitted> events;
    void emit(std::string_view key, const std::string &json, uint64_t records) override {
        events.push_back({std::string(key), json, records});
    }
};

void set_v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
    std::memcpy(out, mapped, 16);
}

wire::FlowDescriptor record(int64_t end_ns, uint8_t src_last, uint64_t bytes, uint64_t packets) {
    wire::FlowDescriptor d{};
    d.flags = wire::kFlowHasEnd | wire::kFlowHasAddresses;
    d.end_ns = end_ns;
    d.protocol = 6;
    d.src_port = 40000;
    d.dst_port = 443;
    d.bytes = bytes;
    d.packets = packets;
    set_v4(d.src_addr, 10, 1, 2, src_last);
    set_v4(d.dst_addr, 192, 0, 2, 1);
    return d;
}

const uint8_t kExporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};

AggregatorConfig config_with(std::vector<std::string> key, uint32_t max_keys = 1024) {
    config::FlowAggregate a;
    a.key = std::move(key);
    a.max_keys = max_keys;
    a.window_s = 60;
    a.grace_s = 10;
    return aggregator_config(a);
}

struct Harness {
    Aggregator agg;
    AggregateCounters counters;
    Collect sink;
    explicit Harness(const AggregatorConfig &cfg) : agg(cfg) {}
    void fold(const wire::FlowDescriptor &d, uint64_t scale = 1, const uint8_t *rec = nullptr,
              const wire::TemplateField *fields = nullptr, uint32_t field_count = 0) {
        agg.fold({d, rec, fields, field_count, kExporter, 0, scale}, "created", counters, sink);
    }
    void flush() { agg.flush_all("created", counters, sink); }
};

bool has(const std::string &json, const std::string &part) {
    return json.find(part) != std::string::npos;
}

TEST(Aggregator, AWindowIsEmittedOnceFlowTimePassesItsEndAndTheGrace) {
    Harness h(config_with({"exporter", "src_prefix", "protocol"}));
    h.fold(record(kT0 + 1 * kS, 1, 100, 1));
    h.fold(record(kT0 + 59 * kS, 2, 200, 2));
    h.fold(record(kT0 + 69 * kS, 3, 50, 1));  // next window; 69 < 60 + 10: still open
    EXPECT_TRUE(h.sink.events.empty());
    h.fold(record(kT0 + 70 * kS, 4, 25, 1));  // the first window closes
    ASSERT_EQ(h.sink.events.size(), 1u);
    const Emitted &e = h.sink.events[0];
    EXPECT_EQ(e.records, 2u);
    EXPECT_EQ(e.kafka_key, "198.51.100.7");
    EXPECT_TRUE(has(e.json, R"("@timestamp":"2026-11-01T00:00:00.000Z")")) << e.json;
    EXPECT_TRUE(has(
        e.json,
        R"("start":"2026-11-01T00:00:00.000Z","end":"2026-11-01T00:01:00.000Z","duration":60000000000)"))
        << e.json;
    EXPECT_TRUE(has(e.json, R"("kind":"metric")")) << e.json;
    EXPECT_TRUE(has(e.json, R"("source":{"ip":"10.1.2.0","address":"10.1.2.0/24"})")) << e.json;
    EXPECT_TRUE(has(e.json, R"("observer":{"ip":"198.51.100.7"})")) << e.json;
    EXPECT_TRUE(
        has(e.json, R"("network":{"transport":"tcp","iana_number":"6","bytes":300,"packets":3})"))
        << e.json;
    EXPECT_TRUE(has(
        e.json,
        R"("aggregate":{"records":2,"flushed":"window_closed","key":["exporter","src_prefix","protocol"]})"))
        << e.json;
    h.flush();
    ASSERT_EQ(h.sink.events.size(), 2u);
    EXPECT_EQ(h.sink.events[1].records, 2u);
    EXPECT_TRUE(has(h.sink.events[1].json, R"("flushed":"shutdown")"));
    EXPECT_TRUE(has(h.sink.events[1].json, R"("bytes":75,"packets":2)"));
    EXPECT_EQ(h.counters.events, 2u);
    EXPECT_EQ(h.counters.open_records, 0u);
}

TEST(Aggregator, FlowTimeMovedOnWithoutRecordsClosesWindows) {
    Harness h(config_with({"exporter"}));
    h.fold(record(kT0 + 1 * kS, 1, 100, 1));
    h.agg.advance(kT0 + 69 * kS, "created", h.counters, h.sink);
    EXPECT_TRUE(h.sink.events.empty());
    h.agg.advance(kT0 + 30 * kS, "created", h.counters, h.sink);  // time never goes back
    EXPECT_EQ(h.agg.watermark_ns(), kT0 + 69 * kS);
    h.agg.advance(kT0 + 70 * kS, "created", h.counters, h.sink);
    ASSERT_EQ(h.sink.events.size(), 1u);
    EXPECT_TRUE(has(h.sink.events[0].json, R"("flushed":"window_closed")"));
    EXPECT_EQ(h.counters.open_records, 0u);
}

TEST(Aggregator, KeysSeparateWhatTheyNameAndMergeTheRest) {
    Harness h(config_with({"src_prefix", "dst_port"}));
    wire::FlowDescriptor other_net = record(kT0, 1, 10, 1);
    set_v4(other_net.src_addr, 10, 1, 3, 1);
    wire::FlowDescriptor other_port = record(kT0, 1, 10, 1);
    other_port.dst_port = 80;
    wire::FlowDescriptor other_proto = record(kT0, 9, 10, 1);  // protocol is not in the key
    other_proto.protocol = 17;
    h.fold(record(kT0, 1, 10, 1));
    h.fold(record(kT0, 200, 10, 1));  // same /24
    h.fold(other_net);
    h.fold(other_port);
    h.fold(other_proto);
    EXPECT_EQ(h.agg.open_keys(), 3u);
    h.flush();
    uint64_t merged = 0;
    for (const Emitted &e : h.sink.events) {
        EXPECT_EQ(e.kafka_key, "");  // no exporter in the key
        EXPECT_FALSE(has(e.json, "iana_number")) << e.json;
        if (has(e.json,
                R"("source":{"ip":"10.1.2.0","address":"10.1.2.0/24"},"destination":{"port":443})"))
            merged = e.records;
    }
    EXPECT_EQ(merged, 3u);
}

TEST(Aggregator, Ipv6PrefixesUseTheirOwnLength) {
    config::FlowAggregate a;
    a.key = {"dst_prefix"};
    a.ipv6_prefix_length = 36;  // not a byte boundary
    Aggregator agg(aggregator_config(a));
    AggregateCounters counters;
    Collect sink;
    wire::FlowDescriptor d = record(kT0, 1, 1, 1);
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    std::memcpy(d.dst_addr, v6, 16);
    agg.fold({d, nullptr, nullptr, 0, kExporter, 0, 1}, "c", counters, sink);
    agg.flush_all("c", counters, sink);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_TRUE(has(sink.events[0].json,
                    R"("destination":{"ip":"2001:db8:a000::","address":"2001:db8:a000::/36"})"))
        << sink.events[0].json;
}

TEST(Aggregator, InterfacesAndAsNumbersComeFromTheTemplateFields) {
    Harness h(config_with({"in_interface", "out_interface", "src_as", "dst_as"}));
    // NetFlow v5's record: input 3, output 7, src AS 64500, dst AS 64511.
    uint8_t rec[wire::kNetflowV5RecordBytes] = {};
    rec[12] = 0, rec[13] = 3;        // input
    rec[14] = 0, rec[15] = 7;        // output
    rec[40] = 0xfb, rec[41] = 0xf4;  // src_as 64500
    rec[42] = 0xfb, rec[43] = 0xff;  // dst_as 64511
    wire::FlowDescriptor d = record(kT0, 1, 48, 1);
    d.record = wire::Span{0, wire::kNetflowV5RecordBytes};
    h.fold(d, 1, rec, wire::kNetflowV5Template, wire::kNetflowV5Fields);
    h.fold(record(kT0, 1, 1, 1));  // no template fields: every one is 0
    h.flush();
    ASSERT_EQ(h.sink.events.size(), 2u);
    bool with = false, without = false;
    for (const Emitted &e : h.sink.events) {
        with |= has(
            e.json,
            R"("observer":{"ingress":{"interface":{"id":"3"}},"egress":{"interface":{"id":"7"}}},"source":{"as":{"number":64500}},"destination":{"as":{"number":64511}})");
        without |= has(e.json, R"("ingress":{"interface":{"id":"0"}})");
    }
    EXPECT_TRUE(with) << h.sink.events[0].json << "\n" << h.sink.events[1].json;
    EXPECT_TRUE(without);
}

TEST(Aggregator, SampledCountsAreScaledAsPerRecordEventsAre) {
    config::Flows flows;
    flows.scale_sampled_counts = true;
    flows.sampling_overrides["198.51.100.7"] = 100;
    const event::FlowEventContext ctx{"", &flows.sampling_overrides, true};
    wire::FlowDescriptor d = record(kT0, 1, 1500, 3);
    d.sampling_interval = 10;
    EXPECT_EQ(event::sampling_rate(d, "192.0.2.1", ctx).scale, 10u);
    const event::SamplingRate overridden = event::sampling_rate(d, "198.51.100.7", ctx);
    EXPECT_TRUE(overridden.overridden);
    EXPECT_EQ(overridden.scale, 100u);
    const event::FlowEventContext unscaled{"", nullptr, false};
    EXPECT_EQ(event::sampling_rate(d, "192.0.2.1", unscaled).scale, 1u);

    Harness h(config_with({"exporter"}));
    h.fold(d, event::sampling_rate(d, "192.0.2.1", ctx).scale);
    h.fold(record(kT0, 2, 100, 1), 1);
    h.flush();
    ASSERT_EQ(h.sink.events.size(), 1u);
    EXPECT_TRUE(has(h.sink.events[0].json, R"("bytes":15100,"packets":31)"))
        << h.sink.events[0].json;
}

TEST(Aggregator, AFullTableIsFlushedEarlyAndCounted) {
    Harness h(config_with({"src_prefix"}, 2));
    wire::FlowDescriptor a = record(kT0, 1, 10, 1);
    wire::FlowDescriptor b = record(kT0, 1, 20, 1);
    set_v4(b.src_addr, 10, 0, 0, 1);
    wire::FlowDescriptor c = record(kT0, 1, 30, 1);
    set_v4(c.src_addr, 10, 0, 1, 1);
    h.fold(a);
    h.fold(b);
    h.fold(a);  // a key already there: no flush
    EXPECT_TRUE(h.sink.events.empty());
    h.fold(c);  // a third key: the table (2) is full
    ASSERT_EQ(h.sink.events.size(), 2u);
    for (const Emitted &e : h.sink.events) EXPECT_TRUE(has(e.json, R"("flushed":"table_full")"));
    EXPECT_EQ(h.counters.early_flushes, 1u);
    EXPECT_EQ(h.counters.early_events, 2u);
    EXPECT_EQ(h.agg.open_keys(), 1u);
    EXPECT_EQ(h.counters.open_records, 1u);
    h.flush();
    EXPECT_EQ(h.counters.events, 3u);
    EXPECT_EQ(h.counters.records, 4u);
}

TEST(Aggregator, ARecordForAnEmittedWindowIsLateAndStartsAnotherAggregate) {
    Harness h(config_with({"exporter"}));
    h.fold(record(kT0 + 5 * kS, 1, 10, 1));
    h.fold(record(kT0 + 200 * kS, 1, 10, 1));  // closes the first window
    ASSERT_EQ(h.sink.events.size(), 1u);
    h.fold(record(kT0 + 6 * kS, 1, 7, 1));  // its window was emitted already
    EXPECT_EQ(h.counters.late_records, 1u);
    h.flush();
    ASSERT_EQ(h.sink.events.size(), 3u);
    uint64_t first_window = 0;
    for (const Emitted &e : h.sink.events)
        if (has(e.json, R"("@timestamp":"2026-11-01T00:00:00.000Z")")) first_window += e.records;
    EXPECT_EQ(first_window, 2u);
}

TEST(Aggregator, TimeFallsBackToStartThenExportThenArrival) {
    Harness h(config_with({}));
    wire::FlowDescriptor start_only = record(0, 1, 1, 1);
    start_only.flags = wire::kFlowHasStart;
    start_only.start_ns = kT0 + 61 * kS;
    wire::FlowDescriptor export_only = record(0, 1, 1, 1);
    export_only.flags = 0;
    export_only.export_ns = kT0 + 125 * kS;
    h.fold(start_only);
    h.fold(export_only);
    h.flush();
    ASSERT_EQ(h.sink.events.size(), 2u);
    std::string all = h.sink.events[0].json + h.sink.events[1].json;
    EXPECT_TRUE(has(all, R"("@timestamp":"2026-11-01T00:01:00.000Z")")) << all;
    EXPECT_TRUE(has(all, R"("@timestamp":"2026-11-01T00:02:00.000Z")")) << all;
}

// Random records, a small table and short windows: every record is in exactly one event, the
// sums are kept, the table never outgrows its bound, and the counters balance at every step.
TEST(Aggregator, TheIdentityHoldsForRandomRecords) {
    std::mt19937_64 rng(20261205);
    for (uint32_t max_keys : {1u, 7u, 64u, 4096u}) {
        Harness h(config_with({"exporter", "src_prefix", "dst_port", "protocol"}, max_keys));
        uint64_t bytes_in = 0, packets_in = 0;
        const uint32_t n = 5000;
        for (uint32_t i = 0; i < n; ++i) {
            // Mostly increasing time, with some records up to 90 s late.
            const int64_t t =
                kT0 + int64_t(i) * 100000000 - int64_t(rng() % 4 == 0 ? rng() % (90 * kS) : 0);
            wire::FlowDescriptor d =
                record(t, static_cast<uint8_t>(rng()), rng() % 100000, rng() % 100);
            set_v4(d.src_addr, 10, static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng() % 8),
                   1);
            d.dst_port = static_cast<uint16_t>(rng() % 5);
            d.protocol = rng() % 2 ? 6 : 17;
            const uint64_t scale = rng() % 3 + 1;
            bytes_in += d.bytes * scale;
            packets_in += d.packets * scale;
            h.fold(d, scale);
            ASSERT_LE(h.agg.open_keys(), max_keys);
            ASSERT_EQ(h.counters.records, uint64_t{i} + 1);
            uint64_t emitted = 0;
            for (const Emitted &e : h.sink.events) emitted += e.records;
            ASSERT_EQ(emitted + h.counters.open_records, h.counters.records);
        }
        h.flush();
        uint64_t records = 0, bytes = 0, packets = 0;
        for (const Emitted &e : h.sink.events) {
            records += e.records;
            const size_t b = e.json.find("\"bytes\":");
            const size_t p = e.json.find("\"packets\":");
            ASSERT_NE(b, std::string::npos);
            bytes += std::stoull(e.json.substr(b + 8));
            packets += std::stoull(e.json.substr(p + 10));
        }
        EXPECT_EQ(records, n) << max_keys;
        EXPECT_EQ(bytes, bytes_in) << max_keys;
        EXPECT_EQ(packets, packets_in) << max_keys;
        EXPECT_EQ(h.counters.events, h.sink.events.size());
        EXPECT_EQ(h.counters.open_records, 0u);
        if (max_keys == 1) {
            EXPECT_GT(h.counters.early_flushes, 0u);
        }
        if (max_keys == 4096) {
            EXPECT_EQ(h.counters.early_flushes, 0u);
        }
        EXPECT_GT(h.counters.late_records, 0u);
    }
}

TEST(AggregateCounters, BalanceNeedsEveryRecordAndEventAccountedFor) {
    AggregateCounters a;
    a.records = 10;
    a.open_records = 2;
    a.records_produced = 6;
    a.records_dropped = 2;
    a.events = 3;
    a.produced = 2;
    a.dropped = 1;
    EXPECT_TRUE(a.balanced());
    a.records_dropped = 1;
    EXPECT_FALSE(a.balanced());
    FlowCounters f;
    f.records = 15;
    f.produced = 4;
    f.filtered = 1;
    f.aggregate = AggregateCounters{};
    f.aggregated = 10;
    f.aggregate.records = 10;
    f.aggregate.records_produced = 10;
    EXPECT_TRUE(f.balanced());
    f.aggregated = 9;
    f.aggregate.records = 9;
    f.aggregate.records_produced = 9;
    EXPECT_FALSE(f.balanced());
}

}  // namespace
}  // namespace tapsift::flow
