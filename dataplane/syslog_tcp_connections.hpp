// The syslog TCP connections one RX lcore follows (no locks: each lcore owns its table): keyed by
// the client -> server 4-tuple of the syslog direction, each with its stream reassembler and RFC
// 6587 framer. Bounded in connections, in bytes held per connection and in all; idle connections
// expire. Framed messages go to the sink with the client's address and port.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "syslog_tcp_framer.hpp"
#include "tcp_stream_reassembler.hpp"

namespace tapsift::dataplane {

struct TcpFlowKey {
    uint8_t client_addr[16];  // IPv4 stored IPv4-mapped, as DecodedPacket does
    uint8_t server_addr[16];
    uint16_t client_port;
    uint16_t server_port;
    bool operator==(const TcpFlowKey &o) const { return std::memcmp(this, &o, sizeof o) == 0; }
};
static_assert(sizeof(TcpFlowKey) == 36, "no padding: the key is compared and hashed as bytes");

struct SyslogTcpLimits {
    size_t max_connections;
    size_t max_held_per_connection;
    size_t max_held_total;
    uint32_t window;
    size_t max_message;
    uint64_t idle_timeout_ns;
};

struct SyslogTcpCounters {
    std::array<uint64_t, static_cast<size_t>(TcpSegmentOutcome::kCount)> segments{};
    uint64_t segments_table_full = 0;  // a new connection with no room in the table
    uint64_t unfollowed_bytes = 0;     // payload of segments no connection took (table full, RST)
    uint64_t connections_opened = 0;
    uint64_t connections_mid_stream = 0;  // first seen without a SYN
    uint64_t connections_closed = 0;      // FIN reached or RST
    uint64_t connections_expired = 0;     // idle timeout
    uint64_t connections_shutdown = 0;    // still open when the lcore stopped
    TcpStreamCounters stream;             // summed over closed connections
    SyslogTcpFramerCounters framing;      // summed over closed connections
};

class SyslogTcpMessageSink {
  public:
    virtual void on_message(const TcpFlowKey &flow, const uint8_t *data, size_t len) = 0;

  protected:
    ~SyslogTcpMessageSink() = default;
};

class SyslogTcpConnections {
  public:
    explicit SyslogTcpConnections(const SyslogTcpLimits &limits);

    void on_segment(const TcpFlowKey &flow, const TcpSegment &seg, uint64_t now_ns,
                    SyslogTcpMessageSink &sink);
    // The server reset the connection (its RST, seen going the other way): closed like the
    // client's own RST. False when no such connection is followed.
    bool reset_by_server(const TcpFlowKey &flow, SyslogTcpMessageSink &sink);
    void expire_idle(uint64_t now_ns, SyslogTcpMessageSink &sink);
    void close_all(SyslogTcpMessageSink &sink);

    size_t open_connections() const { return table_.size(); }
    size_t held_bytes() const { return held_total_; }
    // Closed connections' counters plus the open ones' (walks the table).
    SyslogTcpCounters counters() const;
    // Without the walk: segments and connections exact, stream and framing of closed ones only.
    const SyslogTcpCounters &closed_counters() const { return counters_; }

  private:
    struct Connection {
        Connection(const SyslogTcpLimits &limits, bool syn);
        TcpStreamReassembler stream;
        SyslogTcpFramer framer;
        uint64_t last_seen_ns = 0;
    };
    struct KeyHash {
        size_t operator()(const TcpFlowKey &k) const;
    };
    using Table = std::unordered_map<TcpFlowKey, Connection, KeyHash>;
    void close(Table::iterator it, uint64_t &reason, SyslogTcpMessageSink &sink);

    SyslogTcpLimits limits_;
    Table table_;
    size_t held_total_ = 0;
    SyslogTcpCounters counters_;
};

}  // namespace tapsift::dataplane
