// The per-lcore RX loop (as DPDK's l3fwd main_loop): receive a burst, decode, reassemble,
// classify, pack into the ingest batch; hand full (or idle) batches to the host side.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "eal_setup.hpp"
#include "ingest_batch_builder.hpp"
#include "rx_counters.hpp"
#include "rx_settings.hpp"
#include "syslog_tcp_connections.hpp"

struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace tapsift::dataplane {

// The host side of the data path: offload, event assembly and produce for one batch
// (batch.engine() says which kernel it is for). It keeps its own counters.
using BatchSink = std::function<void(const IngestBatchBuilder &batch)>;

struct LcoreContext {
    LcoreContext(RxSettings settings, std::vector<RxQueue> queues, BatchSink sink,
                 std::atomic<bool> &stop);
    ~LcoreContext();

    const RxSettings settings;
    std::vector<RxQueue> queues;
    std::vector<uint64_t> next_seq;               // per queue
    std::vector<QueueRxCounters> queue_counters;  // per queue
    BatchSink sink;
    // Called about every 10 ms while no packet arrives (the host's timers: dedup windows).
    std::function<void()> idle;
    std::atomic<bool> &stop;
    uint64_t stop_after_rx = 0;  // replay: stop once this many packets have arrived
    uint64_t idle_stop_ms = 0;   // replay: or once nothing has arrived for this long
    IngestBatchBuilder syslog_batch;
    IngestBatchBuilder flow_batch;
    SyslogTcpConnections tcp_connections;  // syslog over TCP, this lcore's connections
    IngestBatchBuilder sflow_batch;
    RxCounters counters;
    rte_ip_frag_tbl *frag_table = nullptr;
    std::unique_ptr<rte_ip_frag_death_row> death_row;
    std::vector<uint8_t> scratch;  // linear copy of multi-segment (reassembled) packets
    int timestamp_offset = -1;     // mbuf dynfield with the capture/NIC timestamp, if any
    uint64_t timestamp_flag = 0;
};

// Runs until ctx.stop is set (or the replay stop condition holds); then closes the syslog TCP
// connections, drains the batches and the reassembly table into the counters. Signature fits
// rte_eal_remote_launch.
int lcore_main(void *ctx);

}  // namespace tapsift::dataplane
