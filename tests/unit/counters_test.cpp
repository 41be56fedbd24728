#include <gtest/gtest.h>

#include "metrics/counters.hpp"

namespace tapsift {
namespace {

using dataplane::TcpSegmentOutcome;

// What one RX loop counts for: 3 syslog TCP segments (a SYN, two with data framing 2 messages),
// a server acknowledgement, one TLS segment, one UDP syslog datagram and one TCP segment to an
// unlisted port.
dataplane::RxCounters rx_with_tcp() {
    dataplane::RxCounters rx;
    rx.rx_packets = 7;
    rx.tcp.table.segments[static_cast<size_t>(TcpSegmentOutcome::kControl)] = 1;
    rx.tcp.table.segments[static_cast<size_t>(TcpSegmentOutcome::kUsed)] = 2;
    rx.tcp.server_segments = 1;
    rx.tcp.encrypted = 1;
    rx.tcp.messages = 2;
    rx.count(dataplane::RxDropped::kNotUdp);
    return rx;
}

TEST(Counters, FramedTcpMessagesEnterTheIdentityAsTheirSegmentsLeaveIt) {
    Counters c;
    c.add_rx(rx_with_tcp());
    EXPECT_EQ(c.tcp.segments(), 5u);
    c.produced = 2;  // the two framed messages and the UDP datagram: one of them still missing
    EXPECT_FALSE(c.balanced());
    c.filtered = 1;
    EXPECT_TRUE(c.balanced());
    c.tcp.messages = 3;  // a message the host never saw
    EXPECT_FALSE(c.balanced());
}

TEST(Counters, TcpCountersAreSummedAcrossLcoresAndWritten) {
    Counters a, b;
    a.add_rx(rx_with_tcp());
    b.add_rx(rx_with_tcp());
    a.produced = b.produced = 3;
    a += b;
    EXPECT_EQ(a.tcp.segments(), 10u);
    EXPECT_EQ(a.tcp.messages, 4u);
    EXPECT_TRUE(a.balanced());
    const std::string json = counters_to_json(a, DeliveryCounters{}, PortCounters{}, nullptr, 0);
    EXPECT_NE(json.find("\"tcp\":{\"segments\":10,\"used\":4,\"duplicate\":0,\"out_of_window\":0,"
                        "\"over_budget\":0,\"control\":2,\"table_full\":0,\"encrypted\":2,"
                        "\"server_to_client\":2,\"messages\":4,"),
              std::string::npos)
        << json;
}

}  // namespace
}  // namespace tapsift
