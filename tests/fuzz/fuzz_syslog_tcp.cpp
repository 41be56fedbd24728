// libFuzzer: syslog TCP reassembly and framing over arbitrary segment scripts on a few
// connections. After closing every connection each payload byte must be accounted for exactly
// once, the held bytes must stay within the total budget, and no message may be longer than
// max_message.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "syslog_tcp_connections.hpp"

namespace {

using namespace tapsift::dataplane;

constexpr SyslogTcpLimits kLimits{
    /*max_connections=*/3,   /*max_held_per_connection=*/512,
    /*max_held_total=*/1024, /*window=*/4096,
    /*max_message=*/128,     /*idle_timeout_ns=*/1000};

struct CheckedSink final : SyslogTcpMessageSink {
    void on_message(const TcpFlowKey &, const uint8_t *, size_t len) override {
        if (len == 0 || len > kLimits.max_message) std::abort();
    }
};

}  // namespace

// Each segment: connection (1 byte), flags (1: SYN 1, FIN 2, RST 4, expire 8, then a RST from
// the server 16), sequence offset (2 bytes), payload length (1 byte), payload.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    SyslogTcpConnections table(kLimits);
    CheckedSink sink;
    uint64_t payload = 0;
    uint64_t now = 0;
    size_t at = 0;
    while (at + 5 <= size) {
        TcpFlowKey key{};
        key.client_port = static_cast<uint16_t>(data[at] % 4);
        key.server_port = 514;
        const uint8_t flags = data[at + 1];
        const uint32_t seq = 1000u + static_cast<uint32_t>(data[at + 2] | (data[at + 3] << 8));
        const uint32_t len = std::min<uint32_t>(data[at + 4], static_cast<uint32_t>(size - at - 5));
        at += 5;
        table.on_segment(
            key,
            TcpSegment{seq, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, data + at, len},
            ++now, sink);
        payload += len;
        at += len;
        if (table.held_bytes() > kLimits.max_held_total) std::abort();
        if (flags & 8) table.expire_idle(now + kLimits.idle_timeout_ns / 2, sink);
        if (flags & 16) table.reset_by_server(key, sink);
    }
    table.close_all(sink);
    const SyslogTcpCounters c = table.counters();
    const uint64_t stream_out = c.unfollowed_bytes + c.stream.delivered_bytes +
                                c.stream.duplicate_bytes + c.stream.out_of_window_bytes +
                                c.stream.over_budget_bytes;
    const uint64_t framing_out = c.framing.framed_bytes + c.framing.skipped_bytes +
                                 c.framing.cut_bytes + c.framing.oversize_bytes;
    if (stream_out != payload || framing_out != c.stream.delivered_bytes) std::abort();
    return 0;
}
