// Test helper: builds NetFlow v9 / IPFIX datagrams field by field, and runs flow_parse on them
// through a real ingest batch, exactly as the cpu backend does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "flow_parse/flow_parse.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::dataplane {
class IngestBatchBuilder;
}

namespace tapsift::testing {

using Bytes = std::vector<uint8_t>;

Bytes be(uint64_t value, int bytes);
Bytes cat(std::initializer_list<Bytes> parts);

struct Field {
    uint16_t ie;
    uint16_t length;
    uint32_t pen = 0;
};

// A template (or options template) set holding one template record.
Bytes template_set(bool ipfix, uint16_t template_id, const std::vector<Field> &fields);
Bytes options_template_set(bool ipfix, uint16_t template_id, const std::vector<Field> &scope,
                           const std::vector<Field> &options);
Bytes data_set(uint16_t set_id, const Bytes &records);
// Whole datagrams; IPFIX gets its length field filled in.
Bytes ipfix_message(uint32_t domain, uint32_t export_s, const std::vector<Bytes> &sets);
Bytes v9_packet(uint32_t source_id, uint32_t uptime_ms, uint32_t unix_s,
                const std::vector<Bytes> &sets);

// A NetFlow v5 record with the given addresses and ports; the rest is fixed: 10 packets, 1500
// bytes, first/last seen at 90 s/99 s of uptime, TCP with ACK|PSH, AS 65000 ► 65001, /24 ► /16.
Bytes v5_record(uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port);
// A v5 datagram: header (count from records, then uptime, export time, engine type/id, sampling
// word) and the records.
Bytes v5_packet(uint32_t uptime_ms, uint32_t unix_s, uint32_t unix_ns, uint16_t engine,
                uint16_t sampling, const std::vector<Bytes> &records);

struct Datagram {
    Bytes payload;
    wire::RecordKind kind;
    std::array<uint8_t, 4> exporter = {192, 0, 2, 1};
    uint16_t src_port = 40000;
    int64_t arrival_ns = 1'700'000'000LL * 1'000'000'000;
};

Datagram ipfix(const Bytes &payload, std::array<uint8_t, 4> exporter = {192, 0, 2, 1});
Datagram v9(const Bytes &payload, std::array<uint8_t, 4> exporter = {192, 0, 2, 1});

// The ingest record header the batch gives this datagram (what the host reads per item).
wire::IngestRecordHeader header_of(const Datagram &d);

// One flow engine (its template store persists across run() calls).
class FlowEngine {
  public:
    explicit FlowEngine(int64_t template_timeout_ns = 5400LL * 1'000'000'000,
                        uint32_t item_capacity = wire::kMaxFlowItemsPerBatch);
    ~FlowEngine();
    // All datagrams in one ingest batch (at most 256); returns the items.
    std::vector<wire::FlowDescriptor> run(const std::vector<Datagram> &datagrams);
    std::vector<wire::FlowDescriptor> records(const std::vector<Datagram> &datagrams);

    hls_kernels::FlowParseCounters counters{};
    std::unique_ptr<wire::FlowParseState> state;

  private:
    hls_kernels::FlowParseConfig config_;
    uint32_t item_capacity_;
    std::unique_ptr<dataplane::IngestBatchBuilder> batch_;
    std::unique_ptr<hls_kernels::beat_t[]> out_;
};

}  // namespace tapsift::testing
