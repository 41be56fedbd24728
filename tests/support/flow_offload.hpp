// Driving a FlowHandler in unit tests as BatchHandler does: a flow batch through the backend and
// the handler, then whatever the handler sends round again (held sets its templates resolve).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

#include "ingest_batch_builder.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"
#include "pipeline/flow_handler.hpp"

namespace tapsift::testing {

// An IPFIX datagram's metadata: from 192.0.2.1 port 40000 to port 4739.
inline dataplane::RecordMeta ipfix_meta(uint64_t packet_seq, uint64_t arrival_ns) {
    static const uint8_t kAddr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    return dataplane::RecordMeta{kAddr, kAddr, 40000, 4739,       wire::RecordKind::kIpfix,
                                 0,     0,     0,     arrival_ns, packet_seq};
}

inline void offload_all(drivers::OffloadBackend &backend, pipeline::FlowHandler &handler,
                        const dataplane::IngestBatchBuilder &batch, Counters &counters) {
    const dataplane::IngestBatchBuilder *next = &batch;
    while (next != nullptr) {
        drivers::BatchResult result;
        ASSERT_TRUE(backend.submit(drivers::BatchKind::kFlow, next->data(), next->size_bytes()));
        ASSERT_TRUE(backend.collect(true, result));
        next = handler.handle(result, counters, std::chrono::steady_clock::now());
    }
}

}  // namespace tapsift::testing
