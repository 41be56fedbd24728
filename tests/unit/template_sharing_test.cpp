// flows.template_sharing: the message codec refuses bad values with a reason (never a crash), and
// two gateways' flow handlers share a template through a topic (librdkafka's mock cluster here;
// tests/e2e/test_template_sharing.py runs two `tapsift replay` against a real 3-broker cluster):
// the data set gateway B held resolves once A's template arrives, A does not take its own
// publication back, and a template B learned from the wire later wins over an older shared one.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "flow/republish_schedule.hpp"
#include "flow/shared_template.hpp"
#include "flow_parse/template_record.hpp"
#include "flow/template_sharing.hpp"
#include "flow_harness.hpp"
#include "flow_offload.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/embedded_broker.hpp"
#include "kafka/producer.hpp"
#include "offload_backend.hpp"
#include "pipeline/flow_handler.hpp"

namespace tapsift::flow {
namespace {

using testing::be;
using testing::Bytes;
using testing::cat;

const uint8_t kExporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};

// An IPFIX template record: ID 256, source and destination port.
SharedTemplate ports_template() {
    SharedTemplate t;
    t.kind = wire::RecordKind::kIpfix;
    t.domain = 5;
    t.template_id = 256;
    t.learned_ns = 1'700'000'000LL * 1'000'000'000;
    t.publisher = 42;
    std::memcpy(t.exporter, kExporter, 16);
    const Bytes set = testing::template_set(true, 256, {{7, 2}, {11, 2}});
    t.record_len = static_cast<uint16_t>(set.size() - 4);  // the set's header off
    std::memcpy(t.record.data(), set.data() + 4, t.record_len);
    return t;
}

SharedTemplateError decode(const std::string &key, const std::string &value) {
    SharedTemplate out;
    return decode_shared_template(key, value, out);
}

TEST(SharedTemplate, RoundTrips) {
    const SharedTemplate t = ports_template();
    const std::string key = shared_template_key(t.exporter, t.domain, t.template_id);
    EXPECT_EQ(key, "192.0.2.1/5/256");
    SharedTemplate out;
    ASSERT_EQ(decode_shared_template(key, encode_shared_template(t), out),
              SharedTemplateError::kNone);
    EXPECT_EQ(out.kind, t.kind);
    EXPECT_EQ(out.domain, 5u);
    EXPECT_EQ(out.template_id, 256);
    EXPECT_EQ(out.learned_ns, t.learned_ns);
    EXPECT_EQ(out.publisher, 42u);
    EXPECT_EQ(out.record_len, t.record_len);
    EXPECT_EQ(std::memcmp(out.record.data(), t.record.data(), t.record_len), 0);
}

TEST(SharedTemplate, BadValuesAreRefusedWithTheirReason) {
    const SharedTemplate t = ports_template();
    const std::string key = shared_template_key(t.exporter, t.domain, t.template_id);
    const std::string good = encode_shared_template(t);
    EXPECT_EQ(decode(key, ""), SharedTemplateError::kSize);  // a tombstone
    std::string v = good;
    v[0] = 2;
    EXPECT_EQ(decode(key, v), SharedTemplateError::kVersion);
    EXPECT_EQ(decode(key, good.substr(0, 20)), SharedTemplateError::kSize);
    EXPECT_EQ(decode(key, good.substr(0, good.size() - 1)), SharedTemplateError::kSize);
    EXPECT_EQ(decode(key, good + "x"), SharedTemplateError::kSize);
    EXPECT_EQ(decode(key, std::string(kMaxSharedValueBytes + 1, '\1')), SharedTemplateError::kSize);
    v = good;
    v[1] = static_cast<char>(wire::RecordKind::kNetflowV5);
    EXPECT_EQ(decode(key, v), SharedTemplateError::kKind);
    v = good;
    v[kSharedValueHeaderBytes + 3] = 9;  // field count 2 ► 9: the record runs past its end
    EXPECT_EQ(decode(key, v), SharedTemplateError::kRecord);
    v = good;
    v[8] = 1;  // template ID 256 ► 257 in the header, not in the record
    EXPECT_EQ(decode(key, v), SharedTemplateError::kRecord);
    EXPECT_EQ(decode("192.0.2.1/5/257", good), SharedTemplateError::kKeyMismatch);
    // Every truncation and every single-byte value at every offset: a reason, never a crash.
    for (size_t n = 0; n < good.size(); ++n)
        EXPECT_NE(decode(key, good.substr(0, n)), SharedTemplateError::kNone);
    for (size_t i = 0; i < good.size(); ++i) {
        for (int b = 0; b < 256; b += 17) {
            v = good;
            v[i] = static_cast<char>(b);
            decode(key, v);
        }
    }
}

// A refresh is shared from the host's copy of the template: the record written back from it is
// the exporter's, byte for byte, for v9 and IPFIX, templates and options templates, enterprise
// and variable-length fields.
TEST(SharedTemplate, WrittenRecordIsTheOneTheDefinitionWasReadFrom) {
    using testing::Field;
    const struct {
        bool ipfix, options;
        Bytes set;
    } cases[] = {
        {false, false, testing::template_set(false, 300, {{8, 4}, {12, 4}, {7, 2}, {1, 4}})},
        {false, true, testing::options_template_set(false, 301, {{1, 4}}, {{34, 4}, {35, 1}})},
        {true, false, testing::template_set(true, 400, {{27, 16}, {82, 0xffff}, {100, 4, 9}})},
        {true, true, testing::options_template_set(true, 402, {{149, 4}}, {{305, 4}, {306, 4}})},
    };
    for (const auto &c : cases) {
        const wire::RecordKind kind =
            c.ipfix ? wire::RecordKind::kIpfix : wire::RecordKind::kNetflowV9;
        wire::FlowTemplate def;
        const hls_kernels::TemplateRecordRead read = hls_kernels::read_template_record(
            c.set.data(), 4, static_cast<uint32_t>(c.set.size()), kind, c.options, def);
        ASSERT_EQ(read.status, hls_kernels::TemplateRecordStatus::kDefinition);
        SharedTemplate t;
        write_template_record(def, t);
        EXPECT_EQ(t.kind, kind);
        EXPECT_EQ(t.options, c.options);
        EXPECT_EQ(t.template_id, def.template_id);
        ASSERT_EQ(t.record_len, read.bytes);
        EXPECT_EQ(std::memcmp(t.record.data(), c.set.data() + 4, read.bytes), 0)
            << "template " << def.template_id;
    }
}

TEST(RepublishSchedule, ARefreshIsDueHalfATimeoutAfterTheLastPublication) {
    constexpr int64_t kInterval = 100;
    RepublishSchedule schedule(kInterval, 4);
    EXPECT_TRUE(schedule.due(kExporter, 5, 256, 1000));  // never published here
    schedule.published(kExporter, 5, 256, 1000);
    EXPECT_FALSE(schedule.due(kExporter, 5, 256, 1099));
    EXPECT_TRUE(schedule.due(kExporter, 5, 256, 1100));
    schedule.published(kExporter, 5, 256, 1180);  // a changed definition restarts the interval
    EXPECT_FALSE(schedule.due(kExporter, 5, 256, 1250));
    EXPECT_TRUE(schedule.due(kExporter, 5, 256, 1280));
    EXPECT_TRUE(schedule.due(kExporter, 5, 256, 500));   // the clock stepped back
    EXPECT_TRUE(schedule.due(kExporter, 5, 257, 1200));  // another template ID
    EXPECT_TRUE(schedule.due(kExporter, 6, 256, 1200));  // another domain
}

TEST(RepublishSchedule, KeysAreBounded) {
    RepublishSchedule schedule(100, 4);
    for (uint16_t id = 256; id < 260; ++id) schedule.published(kExporter, 1, id, 1000);
    EXPECT_EQ(schedule.keys(), 4u);
    // A fifth key at 1050: none is an interval old, so the remembered ones are forgotten.
    schedule.published(kExporter, 1, 260, 1050);
    EXPECT_EQ(schedule.keys(), 1u);
    EXPECT_TRUE(schedule.due(kExporter, 1, 256, 1060));  // forgotten: published again, early
    EXPECT_FALSE(schedule.due(kExporter, 1, 260, 1060));
    for (uint16_t id = 256; id < 259; ++id) schedule.published(kExporter, 1, id, 1070);
    EXPECT_EQ(schedule.keys(), 4u);
    // At 1150 the key of 1050 is an interval old: only it is forgotten.
    schedule.published(kExporter, 1, 261, 1150);
    EXPECT_EQ(schedule.keys(), 4u);
    EXPECT_FALSE(schedule.due(kExporter, 1, 257, 1151));
    EXPECT_TRUE(schedule.due(kExporter, 1, 260, 1151));
}

// One gateway's flow side: its own backend, handler and sharing client.
// flows.template_timeout_s as the gateway takes it: the engine's expiry, and half of it the
// interval refreshes are published again at.
struct Gateway {
    Gateway(const std::string &bootstrap, const std::string &topic,
            int64_t template_timeout_s = 5400, uint32_t startup_wait_ms = 10000)
        : producer(kafka::ProducerConfig{bootstrap, {}, kafka::QueueFullPolicy::kDrop, {}}),
          backend(drivers::open_cpu_backend(backend_config(template_timeout_s), why)),
          sharing(TemplateSharingSettings{bootstrap,
                                          {},
                                          topic,
                                          16,
                                          startup_wait_ms,
                                          1,
                                          false,
                                          template_timeout_s * 1000000000 / 2}),
          handler(*backend, producer, cfg, 0, sifter, &sharing) {}

    static drivers::BackendConfig backend_config(int64_t template_timeout_s) {
        drivers::BackendConfig b;
        b.template_timeout_ns = template_timeout_s * 1000000000;
        return b;
    }

    void offload(const dataplane::IngestBatchBuilder &batch) {
        testing::offload_all(*backend, handler, batch, counters);
    }
    void datagram(const Bytes &payload, int64_t arrival_ns) {
        dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch, dataplane::Engine::kFlow);
        batch.add(testing::ipfix_meta(1, static_cast<uint64_t>(arrival_ns)), payload.data(),
                  static_cast<uint32_t>(payload.size()));
        offload(batch);
    }
    // Waits (at most wait_ms) until the topic brings something: true when it installed it,
    // false when it was known or older (or nothing came).
    bool install_shared(int wait_ms = 10000) {
        const auto passed = [this] {
            return counters.flow.sharing.known + counters.flow.sharing.older;
        };
        const uint64_t before = passed();
        for (int i = 0; i < wait_ms / 100; ++i) {
            if (const auto *b = handler.shared_templates(counters)) {
                offload(*b);
                return true;
            }
            if (passed() > before) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    std::string why;
    config::Config cfg;
    kafka::Producer producer;
    std::unique_ptr<drivers::OffloadBackend> backend;
    sift::RulesetSource rules{sift::Ruleset::load(config::Config{})};
    sift::Sifter sifter{rules};
    TemplateSharing sharing;
    pipeline::FlowHandler handler;
    Counters counters;
};

constexpr int64_t kT0 = 1'700'000'000LL * 1'000'000'000;

TEST(TemplateSharing, HeldDataResolvesFromATemplateAnotherGatewaySaw) {
    kafka::EmbeddedBroker broker;
    broker.create_topic("templates", 1);
    Gateway a(broker.bootstrap(), "templates");
    Gateway b(broker.bootstrap(), "templates");
    // B sees the data first: held.
    b.datagram(testing::ipfix_message(5, 0, {testing::data_set(256, cat({be(80, 2), be(443, 2)}))}),
               kT0 + 1000);
    EXPECT_EQ(b.counters.flow.sets_held, 1u);
    // A sees the template: learned and published.
    a.datagram(testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})}),
               kT0);
    EXPECT_EQ(a.counters.flow.sharing.published, 1u);
    // B learns it from the topic, through its engine, and the held set resolves.
    ASSERT_TRUE(b.install_shared());
    EXPECT_EQ(b.counters.flow.sharing.installed, 1u);
    EXPECT_EQ(b.counters.flow.engine.templates_learned, 1u);
    EXPECT_EQ(b.counters.flow.sets_resolved, 1u);
    EXPECT_EQ(b.counters.flow.records, 1u);
    EXPECT_EQ(b.counters.flow.sharing.published, 0u);  // learned from the topic: not sent back
    EXPECT_EQ(b.counters.flow_packets, 1u);            // the shared datagram is not a received one
    // A never takes its own publication back.
    EXPECT_FALSE(a.install_shared(1000));
    a.sharing.stop();
    b.sharing.stop();
    a.handler.finish(a.counters, std::chrono::steady_clock::now());
    b.handler.finish(b.counters, std::chrono::steady_clock::now());
    a.counters.flow.sharing += a.sharing.counters();
    b.counters.flow.sharing += b.sharing.counters();
    EXPECT_EQ(a.counters.flow.sharing.own, 1u);
    EXPECT_EQ(a.counters.flow.sharing.taken, 0u);
    EXPECT_EQ(b.counters.flow.sharing.taken, 1u);
    EXPECT_TRUE(a.counters.flow.balanced());
    EXPECT_TRUE(b.counters.flow.balanced());
}

// A template refreshed on the wire goes to the topic again once per half timeout, so a gateway
// that learned it from the topic refreshes it too and does not expire it while the exporter
// keeps it alive. Without the refreshes, the same data finds it expired.
TEST(TemplateSharing, RefreshesKeepTheTemplateAliveOnOtherGateways) {
    constexpr int64_t kTimeoutS = 20;
    constexpr int64_t kS = 1000000000;
    const Bytes templates =
        testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})});
    for (const bool refreshes : {true, false}) {
        SCOPED_TRACE(refreshes ? "A refreshes" : "no refresh");
        kafka::EmbeddedBroker broker;
        broker.create_topic("templates", 1);
        Gateway a(broker.bootstrap(), "templates", kTimeoutS);
        Gateway b(broker.bootstrap(), "templates", kTimeoutS);
        a.datagram(templates, kT0);
        ASSERT_TRUE(b.install_shared());
        EXPECT_EQ(b.counters.flow.sharing.installed, 1u);
        if (refreshes) {
            a.datagram(templates, kT0 + 5 * kS);  // within half the timeout: not published
            EXPECT_EQ(a.counters.flow.engine.templates_refreshed, 1u);
            EXPECT_EQ(a.counters.flow.sharing.published, 1u);
            a.datagram(templates, kT0 + 12 * kS);  // half the timeout since the last one: due
            EXPECT_EQ(a.counters.flow.sharing.published, 2u);
            EXPECT_EQ(a.counters.flow.sharing.republished, 1u);
            a.datagram(templates, kT0 + 12 * kS + 1);  // right after it: not due
            EXPECT_EQ(a.counters.flow.sharing.published, 2u);
            ASSERT_TRUE(b.install_shared());
            EXPECT_EQ(b.counters.flow.sharing.refreshed, 1u);
            EXPECT_EQ(b.counters.flow.engine.templates_refreshed, 1u);
        }
        // 25 s after B learned it (13 s after A's refresh, if any).
        b.datagram(
            testing::ipfix_message(5, 0, {testing::data_set(256, cat({be(80, 2), be(443, 2)}))}),
            kT0 + 25 * kS);
        EXPECT_EQ(b.counters.flow.engine.templates_expired, refreshes ? 0u : 1u);
        EXPECT_EQ(b.counters.flow.records, refreshes ? 1u : 0u);
        EXPECT_EQ(b.counters.flow.sets_held, refreshes ? 0u : 1u);
        b.sharing.stop();
        b.handler.finish(b.counters, std::chrono::steady_clock::now());
        b.counters.flow.sharing += b.sharing.counters();
        EXPECT_EQ(b.counters.flow.sharing.taken, refreshes ? 2u : 1u);
        EXPECT_TRUE(b.counters.flow.balanced());
    }
}

// A cluster that does not answer at start does not stop the gateway: it starts within
// startup_wait_ms, publishes nothing until the topic answers, and a template learned meanwhile
// goes to the topic at its first refresh after that.
TEST(TemplateSharing, ATopicThatDoesNotAnswerAtStartIsTriedAgain) {
    kafka::EmbeddedBroker broker;
    broker.create_topic("templates", 1);
    ASSERT_EQ(broker.set_broker_up(1, false), "");
    const auto started = std::chrono::steady_clock::now();
    Gateway a(broker.bootstrap(), "templates", 5400, 500);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    const Bytes templates =
        testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})});
    a.datagram(templates, kT0);
    EXPECT_EQ(a.counters.flow.engine.templates_learned, 1u);
    EXPECT_EQ(a.counters.flow.sharing.published, 0u);
    EXPECT_EQ(a.counters.flow.sharing.publish_refused, 1u);
    ASSERT_EQ(broker.set_broker_up(1, true), "");
    // The exporter refreshes its template every 100 ms (of packet time and of wall time here).
    for (int64_t i = 1; i <= 150 && a.counters.flow.sharing.published == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        a.datagram(templates, kT0 + i * 100000000);
    }
    EXPECT_EQ(a.counters.flow.sharing.published, 1u);
    EXPECT_EQ(a.counters.flow.sharing.republished, 1u);
    Gateway b(broker.bootstrap(), "templates");
    ASSERT_TRUE(b.install_shared());
    EXPECT_EQ(b.counters.flow.sharing.installed, 1u);
}

TEST(TemplateSharing, TheWireWinsOverAnOlderSharedDefinition) {
    kafka::EmbeddedBroker broker;
    broker.create_topic("templates", 1);
    Gateway a(broker.bootstrap(), "templates");
    Gateway b(broker.bootstrap(), "templates");
    // A learns a definition at T0; B learns another one for the same key from the wire later.
    a.datagram(testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})}),
               kT0);
    b.datagram(testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{4, 1}})}),
               kT0 + 5000);
    EXPECT_FALSE(b.install_shared());
    EXPECT_EQ(b.counters.flow.sharing.older, 1u);
    EXPECT_EQ(b.counters.flow.engine.templates_learned, 1u);  // its own, kept
    // C learned A's definition from the wire, later than both: A's is known, B's older.
    Gateway c(broker.bootstrap(), "templates");
    c.datagram(testing::ipfix_message(5, 0, {testing::template_set(true, 256, {{7, 2}, {11, 2}})}),
               kT0 + 10000);
    // A's and B's publications come back from the topic, one poll or two apart (ASan CI saw B's
    // arrive after A's had been judged).
    for (int i = 0; i < 100 && c.counters.flow.sharing.known + c.counters.flow.sharing.older < 2;
         ++i)
        EXPECT_FALSE(c.install_shared(100));
    EXPECT_EQ(c.counters.flow.sharing.known, 1u);
    EXPECT_EQ(c.counters.flow.sharing.older, 1u);
    EXPECT_EQ(c.counters.flow.sharing.installed, 0u);
}

TEST(TemplateSharing, BadMessagesOnTheTopicAreCountedNotTaken) {
    kafka::EmbeddedBroker broker;
    broker.create_topic("templates", 1);
    {
        kafka::Producer raw(
            kafka::ProducerConfig{broker.bootstrap(), {}, kafka::QueueFullPolicy::kDrop, {}});
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        std::string bad = encode_shared_template(ports_template());
        bad[0] = 7;  // a future format
        raw.produce(deadline, "templates", "192.0.2.1/5/256", 15, bad.data(), bad.size());
        raw.produce(deadline, "templates", "k", 1, "garbage", 7);
        const std::string good = encode_shared_template(ports_template());
        raw.produce(deadline, "templates", "192.0.2.1/5/256", 15, good.data(), good.size());
        raw.drain(5000);
        ASSERT_EQ(raw.delivery().delivered, 3u);
    }
    Gateway b(broker.bootstrap(), "templates");  // reads the topic to its end before going on
    b.sharing.stop();
    const TemplateSharingCounters s = b.sharing.counters();
    EXPECT_EQ(s.received, 3u);
    EXPECT_EQ(s.rejected, 2u);
    EXPECT_EQ(s.taken, 1u);
    EXPECT_EQ(s.offered, 1u);
}

}  // namespace
}  // namespace tapsift::flow
