#include "lcore_loop.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_tcp.h>

#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "flow_kind.hpp"
#include "l2l4_decode.hpp"

namespace tapsift::dataplane {
namespace {

constexpr uint32_t kFragmentBucketEntries = 16;
constexpr uint32_t kMaxBurst = 512;
// How often idle syslog TCP connections are looked for (the timeout is in seconds or more).
constexpr uint64_t kTcpExpiryIntervalMs = 1000;

bool listed(const std::vector<uint16_t> &ports, uint16_t port) {
    return std::find(ports.begin(), ports.end(), port) != ports.end();
}

// The host reads ctx.counters from the sink and the idle call: the table's running counters are
// copied in first (the walk over open connections is left to the end of the loop).
void refresh_tcp_counters(LcoreContext &ctx) {
    ctx.counters.tcp.table = ctx.tcp_connections.closed_counters();
}

void flush(LcoreContext &ctx, IngestBatchBuilder &batch) {
    if (batch.empty()) return;
    refresh_tcp_counters(ctx);
    ctx.sink(batch);
    ctx.counters.batches++;
    batch.reset();
}

void flush_batches(LcoreContext &ctx) {
    flush(ctx, ctx.syslog_batch);
    flush(ctx, ctx.flow_batch);
    flush(ctx, ctx.sflow_batch);
}

// Each fragment's first mbuf carries this mark in hash.usr (free for the application after RX),
// so fragments can be counted inside the chains rte_ip_frag builds: a chain may hold several
// fragments, and a large fragment several mbufs.
constexpr uint32_t kFragmentHeadMark = 0x46524147;  // "FRAG"

void mark_fragment(rte_mbuf *m) {
    for (rte_mbuf *seg = m; seg != nullptr; seg = seg->next) seg->hash.usr = 0;
    m->hash.usr = kFragmentHeadMark;
}

uint32_t fragments_in(const rte_mbuf *chain) {
    uint32_t n = 0;
    for (const rte_mbuf *seg = chain; seg != nullptr; seg = seg->next)
        n += seg->hash.usr == kFragmentHeadMark;
    return n;
}

// Fragments the reassembly library gave up on are in the death row: count, then free them.
void free_death_row(LcoreContext &ctx, RxDropped reason) {
    for (uint32_t i = 0; i < ctx.death_row->cnt; ++i) {
        ctx.counters.dropped[static_cast<size_t>(reason)] += fragments_in(ctx.death_row->row[i]);
    }
    rte_ip_frag_free_death_row(ctx.death_row.get(), 0);
}

// The arrival stamp when the port gives none: UTC ns, as the ingest batch's records carry.
uint64_t host_clock_ns() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

const uint8_t *linear_bytes(LcoreContext &ctx, rte_mbuf *m) {
    if (m->nb_segs == 1) return rte_pktmbuf_mtod(m, const uint8_t *);
    return static_cast<const uint8_t *>(rte_pktmbuf_read(m, 0, m->pkt_len, ctx.scratch.data()));
}

// The arrival stamp of a packet: the port's timestamp when it gives one, else the host clock.
uint64_t arrival_ns(const LcoreContext &ctx, const RxQueue &q, rte_mbuf *m) {
    const bool stamped = q.timestamp_ns_per_unit > 0 && ctx.timestamp_offset >= 0 &&
                         (m->ol_flags & ctx.timestamp_flag);
    return stamped
               ? *RTE_MBUF_DYNFIELD(m, ctx.timestamp_offset, uint64_t *) * q.timestamp_ns_per_unit
               : host_clock_ns();
}

// Into the batch, flushing it first when full; a record even an empty batch cannot hold is
// counted.
void add_record(LcoreContext &ctx, IngestBatchBuilder &batch, const RecordMeta &meta,
                const uint8_t *payload, uint32_t len) {
    if (!batch.add(meta, payload, len)) {
        flush(ctx, batch);
        // An empty batch holds any datagram (max_message_bytes <= 65535); count it if not.
        if (!batch.add(meta, payload, len)) ctx.counters.count(RxDropped::kUnbatchable);
    }
}

void pack(LcoreContext &ctx, const RxQueue &q, uint64_t seq, rte_mbuf *m, const uint8_t *frame,
          const DecodedPacket &p, bool reassembled) {
    const uint8_t *payload = frame + p.payload_offset;
    wire::RecordKind kind = wire::RecordKind::kSyslog;
    const bool flow_port = listed(ctx.settings.flow_ports, p.dst_port);
    // sFlow's version is checked by its decoder, which counts a wrong one per datagram.
    const bool sflow_port = !flow_port && listed(ctx.settings.sflow_ports, p.dst_port);
    if (flow_port && !flow_kind(payload, p.payload_len, kind)) {
        ctx.counters.count(RxMalformed::kFlowBadVersion);
        return;
    }
    if (sflow_port) kind = wire::RecordKind::kSflowV5;
    const bool syslog = !flow_port && !sflow_port;
    if (syslog && !listed(ctx.settings.syslog_ports, p.dst_port)) {
        ctx.counters.count(RxDropped::kNotTelemetry);
        return;
    }
    IngestBatchBuilder &batch =
        flow_port ? ctx.flow_batch : (sflow_port ? ctx.sflow_batch : ctx.syslog_batch);
    uint32_t len = p.payload_len;
    uint8_t flags = (p.ipv6 ? wire::kRecordIpv6 : 0) | (reassembled ? wire::kRecordReassembled : 0);
    if (syslog && len > ctx.settings.max_message_bytes) {
        len = ctx.settings.max_message_bytes;
        flags |= wire::kRecordTruncated;
        ctx.counters.syslog_truncated++;
    }
    const RecordMeta meta{p.src_addr, p.dst_addr, p.src_port,
                          p.dst_port, kind,       flags,
                          q.port_id,  q.queue_id, arrival_ns(ctx, q, m),
                          seq};
    add_record(ctx, batch, meta, payload, len);
}

bool ipv4_mapped(const uint8_t *addr) {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(addr, kPrefix, sizeof kPrefix) == 0;
}

// Framed syslog TCP messages into the syslog batch, as UDP syslog records with the client's
// address and port as the source. A message carries the queue, sequence number and arrival time
// of the segment that completed it; one completed by an idle expiry or the shutdown carries the
// time of that, and sequence number 0 (no packet).
class BatchMessageSink final : public SyslogTcpMessageSink {
  public:
    BatchMessageSink(LcoreContext &ctx, uint16_t port_id, uint16_t queue_id, uint64_t arrival_ns,
                     uint64_t seq)
        : ctx_(ctx), port_id_(port_id), queue_id_(queue_id), arrival_ns_(arrival_ns), seq_(seq) {}

    void on_message(const TcpFlowKey &flow, const uint8_t *data, size_t len) override {
        ctx_.counters.tcp.messages++;
        const uint8_t flags = ipv4_mapped(flow.client_addr) ? 0 : wire::kRecordIpv6;
        const RecordMeta meta{flow.client_addr,
                              flow.server_addr,
                              flow.client_port,
                              flow.server_port,
                              wire::RecordKind::kSyslog,
                              flags,
                              port_id_,
                              queue_id_,
                              arrival_ns_,
                              seq_};
        // The framer emits nothing longer than max_message_bytes (<= 65535).
        add_record(ctx_, ctx_.syslog_batch, meta, data, static_cast<uint32_t>(len));
    }

  private:
    LcoreContext &ctx_;
    uint16_t port_id_;
    uint16_t queue_id_;
    uint64_t arrival_ns_;
    uint64_t seq_;
};

BatchMessageSink no_packet_sink(LcoreContext &ctx) {
    const RxQueue *q = ctx.queues.empty() ? nullptr : &ctx.queues.front();
    return BatchMessageSink(ctx, q ? q->port_id : 0, q ? q->queue_id : 0, host_clock_ns(), 0);
}

void log_tls_once(uint16_t port) {
    static std::atomic_flag logged = ATOMIC_FLAG_INIT;
    if (logged.test_and_set()) return;
    spdlog::warn(
        "syslog over TLS seen on port {} (dataplane.syslog_tls_ports): a tap cannot read TLS, so "
        "its segments are only counted (tcp.encrypted in the stats)",
        port);
}

// A TCP segment: to a syslog TCP port, into this lcore's connection table; from one (the
// server's acknowledgements; its RST closes the connection) or to or from a TLS port, counted;
// anything else is not telemetry.
void follow_tcp(LcoreContext &ctx, const RxQueue &q, uint64_t seq, rte_mbuf *m,
                const uint8_t *frame, const DecodedPacket &p) {
    RxTcpCounters &tcp = ctx.counters.tcp;
    const RxSettings &rx = ctx.settings;
    if (listed(rx.syslog_tls_ports, p.dst_port) || listed(rx.syslog_tls_ports, p.src_port)) {
        log_tls_once(listed(rx.syslog_tls_ports, p.dst_port) ? p.dst_port : p.src_port);
        tcp.encrypted++;
        tcp.encrypted_bytes += p.payload_len;
        return;
    }
    const bool to_server = listed(rx.syslog_tcp_ports, p.dst_port);
    if (!to_server && !listed(rx.syslog_tcp_ports, p.src_port)) {
        ctx.counters.count(RxDropped::kNotUdp);
        return;
    }
    TcpFlowKey key;  // the client -> server direction, whichever way this segment goes
    std::memcpy(key.client_addr, to_server ? p.src_addr : p.dst_addr, sizeof key.client_addr);
    std::memcpy(key.server_addr, to_server ? p.dst_addr : p.src_addr, sizeof key.server_addr);
    key.client_port = to_server ? p.src_port : p.dst_port;
    key.server_port = to_server ? p.dst_port : p.src_port;
    const uint64_t now = arrival_ns(ctx, q, m);
    BatchMessageSink sink(ctx, q.port_id, q.queue_id, now, seq);
    if (!to_server) {
        tcp.server_segments++;
        if (p.tcp_flags & RTE_TCP_RST_FLAG) ctx.tcp_connections.reset_by_server(key, sink);
        return;
    }
    const TcpSegment segment{p.tcp_seq,
                             (p.tcp_flags & RTE_TCP_SYN_FLAG) != 0,
                             (p.tcp_flags & RTE_TCP_FIN_FLAG) != 0,
                             (p.tcp_flags & RTE_TCP_RST_FLAG) != 0,
                             frame + p.payload_offset,
                             p.payload_len};
    tcp.payload_bytes += p.payload_len;
    // Idle expiry runs on the host clock: a capture's timestamps may be far in the past.
    ctx.tcp_connections.on_segment(key, segment, host_clock_ns(), sink);
}

void handle_packet(LcoreContext &ctx, const RxQueue &q, uint64_t seq, rte_mbuf *m) {
    ctx.counters.rx_packets++;
    ctx.counters.rx_bytes += m->pkt_len;
    if (m->pkt_len > ctx.scratch.size()) {  // a capture can hold frames larger than any datagram
        ctx.counters.count(RxMalformed::kOversizedFrame);
        rte_pktmbuf_free(m);
        return;
    }
    const uint8_t *frame = linear_bytes(ctx, m);
    DecodedPacket p = decode_l2l4(frame, m->pkt_len);
    bool reassembled = false;
    if (p.status == DecodeStatus::kIpv4Fragment) {
        m->l2_len = p.l2_len;
        m->l3_len = p.l3_len;
        mark_fragment(m);
        auto *ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr *, p.l2_len);
        rte_mbuf *whole = rte_ipv4_frag_reassemble_packet(ctx.frag_table, ctx.death_row.get(), m,
                                                          rte_rdtsc(), ip);
        free_death_row(ctx, RxDropped::kFragmentDiscarded);
        if (whole == nullptr) return;  // held until the rest arrives; accounted when it completes
        m = whole;
        ctx.counters.merged_fragments += fragments_in(m) - 1u;
        ctx.counters.reassembled_datagrams++;
        if (m->pkt_len > ctx.scratch.size()) {  // decode bounds fragments; this is the backstop
            ctx.counters.count(RxMalformed::kOversizedFrame);
            rte_pktmbuf_free(m);
            return;
        }
        frame = linear_bytes(ctx, m);
        p = decode_l2l4(frame, m->pkt_len, true);
        reassembled = true;
    }
    switch (p.status) {
        case DecodeStatus::kUdp:
            pack(ctx, q, seq, m, frame, p, reassembled);
            break;
        case DecodeStatus::kTcp:
            follow_tcp(ctx, q, seq, m, frame, p);
            break;
        case DecodeStatus::kMalformed:
            ctx.counters.count(p.malformed);
            break;
        case DecodeStatus::kDropped:
            ctx.counters.count(p.dropped);
            break;
        case DecodeStatus::kIpv4Fragment:
            ctx.counters.count(RxMalformed::kBadIpHeader);
            break;
    }
    rte_pktmbuf_free(m);
}

// dataplane.idle: adaptive. A poll-mode loop spins its core at 100% however quiet the tap is
// (busy_poll). Here, after kEmptyRoundsBeforeSleep empty rounds in a row (a gap inside a burst
// does not sleep), the loop sleeps: 8 us, then twice as long after each further empty round, up
// to idle_max_sleep_us; a packet starts it over. (Every wake-up costs several microseconds of CPU
// on a VM, so the ramp starts where a sleep is still worth one.) The empty-poll backoff of DPDK's
// examples/l3fwd-power, with a sleep that gives the core back: the PMD power management
// callbacks' pause mode still spins (rte_pause/TPAUSE, busy to the OS), and monitor mode needs a
// monitor address from the driver (net_pcap and net_af_packet give none) and WAITPKG or MONITORX
// in the CPU.
class IdleBackoff {
  public:
    explicit IdleBackoff(const RxSettings &rx)
        : enabled_(rx.idle_adaptive),
          max_ns_(uint64_t{rx.idle_max_sleep_us} * 1000),
          first_ns_(std::min(kFirstSleepNs, max_ns_)),
          sleep_ns_(first_ns_) {
        // The kernel may stretch a sleep by the thread's timer slack (50 us by default): keep
        // the latency bound idle_max_sleep_us, not that plus 50 us.
        if (enabled_) prctl(PR_SET_TIMERSLACK, kTimerSlackNs);
    }

    void received() {
        empty_rounds_ = 0;
        sleep_ns_ = first_ns_;
    }

    void empty(RxCounters &counters) {
        if (!enabled_ || ++empty_rounds_ < kEmptyRoundsBeforeSleep) return;
        const timespec ts{0, static_cast<long>(sleep_ns_)};
        nanosleep(&ts, nullptr);
        counters.idle_sleeps++;
        sleep_ns_ = std::min(sleep_ns_ * 2, max_ns_);
    }

  private:
    static constexpr uint32_t kEmptyRoundsBeforeSleep = 64;
    static constexpr uint64_t kFirstSleepNs = 8000;
    static constexpr unsigned long kTimerSlackNs = 1000;
    const bool enabled_;
    const uint64_t max_ns_;
    const uint64_t first_ns_;
    uint64_t sleep_ns_;
    uint32_t empty_rounds_ = 0;
};

bool replay_done(const LcoreContext &ctx, uint64_t idle_since_tsc) {
    if (ctx.stop_after_rx > 0 && ctx.counters.rx_packets >= ctx.stop_after_rx) return true;
    return ctx.idle_stop_ms > 0 &&
           rte_rdtsc() - idle_since_tsc > rte_get_tsc_hz() / 1000 * ctx.idle_stop_ms;
}

}  // namespace

LcoreContext::LcoreContext(RxSettings rx, std::vector<RxQueue> qs, BatchSink s,
                           std::atomic<bool> &stop_flag)
    : settings(std::move(rx)),
      queues(std::move(qs)),
      next_seq(queues.size(), 1),
      queue_counters(queues.size()),
      sink(std::move(s)),
      stop(stop_flag),
      syslog_batch(settings.batch_records, Engine::kSyslog),
      flow_batch(settings.batch_records, Engine::kFlow),
      tcp_connections(SyslogTcpLimits{
          settings.tcp_max_connections, settings.tcp_max_held_bytes_per_connection,
          settings.tcp_max_held_bytes, settings.tcp_window_bytes, settings.max_message_bytes,
          uint64_t{settings.tcp_idle_timeout_ms} * 1000000}),
      sflow_batch(settings.batch_records, Engine::kSflow),
      death_row(std::make_unique<rte_ip_frag_death_row>()),
      scratch(wire::kMaxPayloadBytes + 128) {
    death_row->cnt = 0;
    const uint64_t timeout_cycles = rte_get_tsc_hz() / 1000 * settings.fragment_timeout_ms;
    const uint32_t flows = settings.fragment_flows;
    frag_table = rte_ip_frag_table_create(flows / kFragmentBucketEntries, kFragmentBucketEntries,
                                          flows, timeout_cycles, static_cast<int>(rte_socket_id()));
    if (!frag_table) throw std::runtime_error("cannot create the IPv4 reassembly table");
    timestamp_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, nullptr);
    const int flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, nullptr);
    timestamp_flag = flag_bit >= 0 ? (uint64_t{1} << flag_bit) : 0;
}

LcoreContext::~LcoreContext() {
    rte_ip_frag_table_destroy(frag_table);
}

int lcore_main(void *arg) {
    auto &ctx = *static_cast<LcoreContext *>(arg);
    rte_mbuf *burst[kMaxBurst];
    const uint16_t burst_size = static_cast<uint16_t>(std::min(ctx.settings.rx_burst, kMaxBurst));
    const uint64_t flush_cycles = rte_get_tsc_hz() / 1000000 * ctx.settings.batch_flush_us;
    uint64_t last_flush = rte_rdtsc();
    uint64_t idle_since_tsc = rte_rdtsc();
    uint64_t last_idle_call = rte_rdtsc();
    const uint64_t idle_call_cycles = rte_get_tsc_hz() / 100;
    uint64_t last_expiry = rte_rdtsc();
    const uint64_t expiry_cycles = rte_get_tsc_hz() / 1000 * kTcpExpiryIntervalMs;
    IdleBackoff backoff(ctx.settings);
    while (!ctx.stop.load(std::memory_order_relaxed)) {
        bool received = false;
        for (size_t i = 0; i < ctx.queues.size(); ++i) {
            const RxQueue &q = ctx.queues[i];
            const uint16_t n = rte_eth_rx_burst(q.port_id, q.queue_id, burst, burst_size);
            QueueRxCounters &qc = ctx.queue_counters[i];
            qc.packets += n;
            for (uint16_t k = 0; k < n; ++k) {
                qc.bytes += burst[k]->pkt_len;  // read before handle_packet frees the mbuf
                handle_packet(ctx, q, ctx.next_seq[i]++, burst[k]);
            }
            received |= n > 0;
        }
        const uint64_t now = rte_rdtsc();
        if (received) idle_since_tsc = now;
        if (!received || now - last_flush > flush_cycles) {
            flush_batches(ctx);
            last_flush = now;
            // Time blocked in the sink (a full producer queue while the broker is away) is not
            // the input being idle: replay would stop before the end of its capture.
            idle_since_tsc += rte_rdtsc() - now;
        }
        if (now - last_expiry > expiry_cycles) {
            BatchMessageSink sink = no_packet_sink(ctx);
            ctx.tcp_connections.expire_idle(host_clock_ns(), sink);
            last_expiry = now;
        }
        if (!received && ctx.idle && now - last_idle_call > idle_call_cycles) {
            refresh_tcp_counters(ctx);
            ctx.idle();
            last_idle_call = now;
        }
        if (replay_done(ctx, idle_since_tsc)) break;
        if (received) {
            backoff.received();
        } else {
            backoff.empty(ctx.counters);
        }
    }
    // Open syslog TCP connections end here: what they hold is framed (or counted cut) now.
    BatchMessageSink sink = no_packet_sink(ctx);
    ctx.tcp_connections.close_all(sink);
    flush_batches(ctx);
    refresh_tcp_counters(ctx);  // every connection is closed now: the totals
    // Fragments still waiting at shutdown will never complete. The death row holds a bounded
    // number of mbufs per call, so drain until a pass finds nothing.
    for (uint32_t pass = 0; pass <= ctx.settings.fragment_flows; ++pass) {
        rte_ip_frag_table_del_expired_entries(ctx.frag_table, ctx.death_row.get(), UINT64_MAX);
        if (ctx.death_row->cnt == 0) break;
        free_death_row(ctx, RxDropped::kFragmentIncomplete);
    }
    return 0;
}

}  // namespace tapsift::dataplane
