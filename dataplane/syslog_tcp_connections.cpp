#include "syslog_tcp_connections.hpp"

#include <algorithm>

namespace tapsift::dataplane {
namespace {

// Delivered bytes kept per connection to compare retransmissions: one full-size Ethernet segment.
constexpr size_t kCompareBytes = 1460;

// Reassembled bytes into the framer, framed messages out to the sink with their flow.
struct Bridge final : TcpByteSink, SyslogTcpFrameSink {
    Bridge(const TcpFlowKey &flow, SyslogTcpFramer &framer, SyslogTcpMessageSink &sink)
        : flow(flow), framer(framer), sink(sink) {}
    void on_bytes(const uint8_t *data, size_t len) override { framer.feed(data, len, *this); }
    void on_gap(uint64_t) override { framer.gap(); }
    void on_message(const uint8_t *data, size_t len) override { sink.on_message(flow, data, len); }
    const TcpFlowKey &flow;
    SyslogTcpFramer &framer;
    SyslogTcpMessageSink &sink;
};

void add_stream(TcpStreamCounters &to, const TcpStreamCounters &c) {
    to.delivered_bytes += c.delivered_bytes;
    to.duplicate_bytes += c.duplicate_bytes;
    to.conflict_segments += c.conflict_segments;
    to.out_of_window_bytes += c.out_of_window_bytes;
    to.over_budget_bytes += c.over_budget_bytes;
    to.gaps += c.gaps;
    to.gap_bytes += c.gap_bytes;
}

void add_framing(SyslogTcpFramerCounters &to, const SyslogTcpFramerCounters &c) {
    to.messages += c.messages;
    to.framed_bytes += c.framed_bytes;
    to.skipped_bytes += c.skipped_bytes;
    to.cut_messages += c.cut_messages;
    to.cut_bytes += c.cut_bytes;
    to.oversize_messages += c.oversize_messages;
    to.oversize_bytes += c.oversize_bytes;
    to.bad_headers += c.bad_headers;
    to.resyncs += c.resyncs;
}

}  // namespace

SyslogTcpConnections::Connection::Connection(const SyslogTcpLimits &limits, bool syn)
    : stream(limits.window, limits.max_held_per_connection, kCompareBytes),
      framer(limits.max_message, syn) {}

size_t SyslogTcpConnections::KeyHash::operator()(const TcpFlowKey &k) const {
    // FNV-1a over the key's bytes.
    const auto *p = reinterpret_cast<const uint8_t *>(&k);
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < sizeof k; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return static_cast<size_t>(h);
}

SyslogTcpConnections::SyslogTcpConnections(const SyslogTcpLimits &limits) : limits_(limits) {
    table_.reserve(limits_.max_connections);
}

void SyslogTcpConnections::on_segment(const TcpFlowKey &flow, const TcpSegment &seg,
                                      uint64_t now_ns, SyslogTcpMessageSink &sink) {
    auto it = table_.find(flow);
    if (it == table_.end()) {
        if (seg.rst || (seg.len == 0 && !seg.syn)) {  // nothing to follow
            ++counters_.segments[static_cast<size_t>(TcpSegmentOutcome::kControl)];
            counters_.unfollowed_bytes += seg.len;
            return;
        }
        if (table_.size() >= limits_.max_connections) {
            ++counters_.segments_table_full;
            counters_.unfollowed_bytes += seg.len;
            return;
        }
        it = table_.emplace(flow, Connection(limits_, seg.syn)).first;
        ++counters_.connections_opened;
        if (!seg.syn) ++counters_.connections_mid_stream;
    }
    Connection &c = it->second;
    c.last_seen_ns = now_ns;
    // Room left in the total budget, on top of what this connection already holds.
    const size_t held_before = c.stream.held_bytes();
    const size_t room = limits_.max_held_total - held_total_ + held_before;
    c.stream.set_max_held(std::min(limits_.max_held_per_connection, room));
    Bridge bridge(it->first, c.framer, sink);
    const TcpSegmentOutcome outcome = c.stream.add(seg, bridge);
    ++counters_.segments[static_cast<size_t>(outcome)];
    held_total_ = held_total_ - held_before + c.stream.held_bytes();
    if (seg.rst || c.stream.finished()) close(it, counters_.connections_closed, sink);
}

bool SyslogTcpConnections::reset_by_server(const TcpFlowKey &flow, SyslogTcpMessageSink &sink) {
    const auto it = table_.find(flow);
    if (it == table_.end()) return false;
    close(it, counters_.connections_closed, sink);
    return true;
}

void SyslogTcpConnections::expire_idle(uint64_t now_ns, SyslogTcpMessageSink &sink) {
    for (auto it = table_.begin(); it != table_.end();) {
        const auto here = it++;
        if (now_ns - here->second.last_seen_ns >= limits_.idle_timeout_ns) {
            close(here, counters_.connections_expired, sink);
        }
    }
}

void SyslogTcpConnections::close_all(SyslogTcpMessageSink &sink) {
    while (!table_.empty()) close(table_.begin(), counters_.connections_shutdown, sink);
}

void SyslogTcpConnections::close(Table::iterator it, uint64_t &reason, SyslogTcpMessageSink &sink) {
    Connection &c = it->second;
    Bridge bridge(it->first, c.framer, sink);
    held_total_ -= c.stream.held_bytes();
    c.stream.flush(bridge);
    c.framer.finish(bridge);
    add_stream(counters_.stream, c.stream.counters());
    add_framing(counters_.framing, c.framer.counters());
    ++reason;
    table_.erase(it);
}

SyslogTcpCounters SyslogTcpConnections::counters() const {
    SyslogTcpCounters all = counters_;
    for (const auto &[flow, c] : table_) {
        add_stream(all.stream, c.stream.counters());
        add_framing(all.framing, c.framer.counters());
    }
    return all;
}

}  // namespace tapsift::dataplane
