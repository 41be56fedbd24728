#include <gtest/gtest.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "syslog_tcp_connections.hpp"

namespace tapsift::dataplane {
namespace {

struct Messages final : SyslogTcpMessageSink {
    std::vector<std::pair<uint16_t, std::string>> got;  // client port, message
    void on_message(const TcpFlowKey &flow, const uint8_t *data, size_t len) override {
        got.emplace_back(flow.client_port, std::string(reinterpret_cast<const char *>(data), len));
    }
};

constexpr uint64_t kSecond = 1'000'000'000ull;

SyslogTcpLimits limits() {
    return SyslogTcpLimits{/*max_connections=*/16,
                           /*max_held_per_connection=*/4096,
                           /*max_held_total=*/8192,
                           /*window=*/65536,
                           /*max_message=*/1024,
                           /*idle_timeout_ns=*/60 * kSecond};
}

TcpFlowKey flow(uint32_t client, uint16_t port) {
    TcpFlowKey k{};
    k.client_addr[10] = k.client_addr[11] = 0xff;
    std::memcpy(k.client_addr + 12, &client, 4);
    k.server_addr[10] = k.server_addr[11] = 0xff;
    k.server_addr[15] = 1;
    k.client_port = port;
    k.server_port = 514;
    return k;
}

struct Sender {
    SyslogTcpConnections &table;
    Messages &sink;
    TcpFlowKey key;
    uint32_t isn;
    void syn(uint64_t now = 0) {
        table.on_segment(key, TcpSegment{isn, true, false, false, nullptr, 0}, now, sink);
    }
    void data(uint32_t rel, const std::string &s, uint64_t now = 0, bool fin = false,
              bool rst = false) {
        table.on_segment(
            key,
            TcpSegment{isn + 1 + rel, false, fin, rst, reinterpret_cast<const uint8_t *>(s.data()),
                       static_cast<uint32_t>(s.size())},
            now, sink);
    }
};

TEST(SyslogTcpConnections, TwoConnectionsInterleavedKeepTheirOwnStreams) {
    SyslogTcpConnections t(limits());
    Messages m;
    Sender a{t, m, flow(1, 40000), 1000};
    Sender b{t, m, flow(2, 40001), 5000};
    a.syn();
    b.syn();
    a.data(0, "<13>a first\n<13>a sec");
    b.data(0, "11 <13>b first");
    a.data(21, "ond\n", 0, true);
    EXPECT_EQ(t.open_connections(), 1u);  // a's FIN reached
    b.data(14, "11 <13>b secnd");
    const std::vector<std::pair<uint16_t, std::string>> want{{40000, "<13>a first"},
                                                             {40001, "<13>b first"},
                                                             {40000, "<13>a second"},
                                                             {40001, "<13>b secnd"}};
    EXPECT_EQ(m.got, want);
    const auto c = t.counters();
    EXPECT_EQ(c.connections_opened, 2u);
    EXPECT_EQ(c.connections_closed, 1u);
    EXPECT_EQ(c.framing.messages, 4u);
}

TEST(SyslogTcpConnections, RstFromEitherSideClosesAndAnUnterminatedLineIsEmitted) {
    for (const bool by_server : {false, true}) {
        SyslogTcpConnections t(limits());
        Messages m;
        Sender a{t, m, flow(1, 40000), 7};
        a.syn();
        a.data(0, "<13>one\n<13>no newline yet");
        if (by_server) {
            EXPECT_FALSE(t.reset_by_server(flow(2, 40000), m));  // not followed
            EXPECT_TRUE(t.reset_by_server(flow(1, 40000), m));
        } else {
            a.data(26, "", 0, false, true);
        }
        EXPECT_EQ(t.open_connections(), 0u);
        const std::vector<std::pair<uint16_t, std::string>> want{{40000, "<13>one"},
                                                                 {40000, "<13>no newline yet"}};
        EXPECT_EQ(m.got, want);
        EXPECT_EQ(t.counters().connections_closed, 1u);
    }
}

TEST(SyslogTcpConnections, IdleConnectionsExpireAndATrickleKeepsItsBound) {
    SyslogTcpLimits l = limits();
    l.max_message = 64;
    SyslogTcpConnections t(l);
    Messages m;
    Sender slow{t, m, flow(1, 40000), 7};
    slow.syn();
    // Slowloris: one byte a second of a line that never ends.
    for (uint32_t i = 0; i < 1000; ++i) {
        slow.data(i, "x", i * kSecond);
        ASSERT_EQ(t.counters().segments[static_cast<size_t>(TcpSegmentOutcome::kUsed)], i + 1);
    }
    const auto c = t.counters();
    // The line is dropped once past max_message; then only a resync tail is kept.
    EXPECT_EQ(c.framing.oversize_messages, 1u);
    EXPECT_EQ(c.framing.oversize_bytes, 65u);
    EXPECT_EQ(c.framing.skipped_bytes, 1000u - 65u - 11u);
    t.expire_idle(1000 * kSecond, m);
    EXPECT_EQ(t.open_connections(), 1u);  // seen a second ago
    t.expire_idle(1060 * kSecond, m);
    EXPECT_EQ(t.open_connections(), 0u);
    EXPECT_EQ(t.counters().connections_expired, 1u);
    EXPECT_TRUE(m.got.empty());
}

TEST(SyslogTcpConnections, TableAndTotalBudgetAreBounded) {
    SyslogTcpLimits l = limits();
    l.max_connections = 2;
    l.max_held_total = 100;
    SyslogTcpConnections t(l);
    Messages m;
    Sender a{t, m, flow(1, 1), 0};
    Sender b{t, m, flow(2, 2), 0};
    Sender c{t, m, flow(3, 3), 0};
    a.syn();
    b.syn();
    c.syn();
    EXPECT_EQ(t.counters().segments_table_full, 1u);
    a.data(10, std::string(80, 'a'));  // held: its first 10 bytes are missing
    b.data(10, std::string(80, 'b'));  // only 20 bytes of the total budget left
    EXPECT_LE(t.held_bytes(), 100u);
    const auto counters = t.counters();
    EXPECT_EQ(counters.segments[static_cast<size_t>(TcpSegmentOutcome::kOverBudget)], 1u);
    EXPECT_EQ(counters.stream.over_budget_bytes, 80u);
}

TEST(SyslogTcpConnections, TenThousandConnectionsStayWithinTheirMemoryBound) {
    SyslogTcpLimits l = limits();
    l.max_connections = 10000;
    l.max_held_total = 64u << 20;
    const size_t before = mallinfo2().uordblks;
    {
        SyslogTcpConnections t(l);
        Messages m;
        for (uint32_t i = 0; i < 10000; ++i) {
            Sender s{t, m, flow(i, static_cast<uint16_t>(1024 + i % 60000)), i * 7919u};
            s.syn();
            s.data(0, "<13>host app: message " + std::to_string(i) + "\n<13>partial");
        }
        EXPECT_EQ(t.open_connections(), 10000u);
        EXPECT_EQ(m.got.size(), 10000u);
        const size_t used = mallinfo2().uordblks - before;
        const size_t per_connection = used / 10000;
        std::printf("10k syslog TCP connections: %zu bytes in all, %zu per connection\n", used,
                    per_connection);
        // One reassembler and framer each; the delivered-byte copy is at most a segment.
        EXPECT_LT(per_connection, 4096u);
        t.close_all(m);
        EXPECT_EQ(m.got.size(), 20000u);  // the partial lines are emitted at close
        EXPECT_EQ(t.counters().connections_shutdown, 10000u);
    }
}

}  // namespace
}  // namespace tapsift::dataplane
