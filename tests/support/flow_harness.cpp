#include "flow_harness.hpp"

#include <cstring>
#include <stdexcept>

#include "ingest_batch_builder.hpp"

namespace tapsift::testing {

Bytes be(uint64_t value, int bytes) {
    Bytes out(static_cast<size_t>(bytes));
    for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[static_cast<size_t>(i)] = value & 0xff;
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

namespace {

Bytes field_specs(bool ipfix, const std::vector<Field> &fields) {
    Bytes out;
    for (const Field &f : fields) {
        const bool enterprise = ipfix && f.pen != 0;
        out = cat({out, be(f.ie | (enterprise ? 0x8000u : 0u), 2), be(f.length, 2)});
        if (enterprise) out = cat({out, be(f.pen, 4)});
    }
    return out;
}

Bytes set(uint16_t id, const Bytes &body) {
    return cat({be(id, 2), be(body.size() + 4, 2), body});
}

}  // namespace

Bytes template_set(bool ipfix, uint16_t template_id, const std::vector<Field> &fields) {
    return set(ipfix ? 2 : 0,
               cat({be(template_id, 2), be(fields.size(), 2), field_specs(ipfix, fields)}));
}

Bytes options_template_set(bool ipfix, uint16_t template_id, const std::vector<Field> &scope,
                           const std::vector<Field> &options) {
    std::vector<Field> all = scope;
    all.insert(all.end(), options.begin(), options.end());
    if (ipfix) {
        return set(3, cat({be(template_id, 2), be(all.size(), 2), be(scope.size(), 2),
                           field_specs(true, all)}));
    }
    return set(1, cat({be(template_id, 2), be(scope.size() * 4, 2), be(options.size() * 4, 2),
                       field_specs(false, all)}));
}

Bytes data_set(uint16_t set_id, const Bytes &records) {
    return set(set_id, records);
}

Bytes ipfix_message(uint32_t domain, uint32_t export_s, const std::vector<Bytes> &sets) {
    Bytes body;
    for (const Bytes &s : sets) body = cat({body, s});
    return cat(
        {be(10, 2), be(body.size() + 16, 2), be(export_s, 4), be(1, 4), be(domain, 4), body});
}

Bytes v9_packet(uint32_t source_id, uint32_t uptime_ms, uint32_t unix_s,
                const std::vector<Bytes> &sets) {
    Bytes body;
    for (const Bytes &s : sets) body = cat({body, s});
    return cat({be(9, 2), be(sets.size(), 2), be(uptime_ms, 4), be(unix_s, 4), be(1, 4),
                be(source_id, 4), body});
}

Bytes v5_record(uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port) {
    return cat({be(src, 4),      be(dst, 4),   be(0, 4),     be(3, 2),     be(4, 2),
                be(10, 4),       be(1500, 4),  be(90000, 4), be(99000, 4), be(src_port, 2),
                be(dst_port, 2), be(0, 1),     be(0x18, 1),  be(6, 1),     be(0, 1),
                be(65000, 2),    be(65001, 2), be(24, 1),    be(16, 1),    be(0, 2)});
}

Bytes v5_packet(uint32_t uptime_ms, uint32_t unix_s, uint32_t unix_ns, uint16_t engine,
                uint16_t sampling, const std::vector<Bytes> &records) {
    Bytes out = cat({be(5, 2), be(records.size(), 2), be(uptime_ms, 4), be(unix_s, 4),
                     be(unix_ns, 4), be(7, 4), be(engine, 2), be(sampling, 2)});
    for (const Bytes &r : records) out = cat({out, r});
    return out;
}

Datagram ipfix(const Bytes &payload, std::array<uint8_t, 4> exporter) {
    return Datagram{payload, wire::RecordKind::kIpfix, exporter};
}

Datagram v9(const Bytes &payload, std::array<uint8_t, 4> exporter) {
    return Datagram{payload, wire::RecordKind::kNetflowV9, exporter};
}

namespace {

void exporter_address(const Datagram &d, uint8_t addr[16]) {
    const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(addr, mapped, 12);
    std::memcpy(addr + 12, d.exporter.data(), 4);
}

}  // namespace

wire::IngestRecordHeader header_of(const Datagram &d) {
    wire::IngestRecordHeader h{};
    exporter_address(d, h.src_addr);
    exporter_address(d, h.dst_addr);
    h.src_port = d.src_port;
    h.dst_port = 2055;
    h.kind = static_cast<uint8_t>(d.kind);
    h.payload_len = static_cast<uint16_t>(d.payload.size());
    h.arrival_ns = static_cast<uint64_t>(d.arrival_ns);
    return h;
}

FlowEngine::FlowEngine(int64_t template_timeout_ns, uint32_t item_capacity)
    : state(std::make_unique<wire::FlowParseState>()),
      config_{template_timeout_ns},
      item_capacity_(item_capacity),
      batch_(std::make_unique<dataplane::IngestBatchBuilder>(wire::kMaxRecordsPerBatch,
                                                             dataplane::Engine::kFlow)),
      out_(
          std::make_unique<hls_kernels::beat_t[]>(size_t{item_capacity} * wire::kDescriptorBeats)) {
}

FlowEngine::~FlowEngine() = default;

std::vector<wire::FlowDescriptor> FlowEngine::run(const std::vector<Datagram> &datagrams) {
    batch_->reset();
    uint64_t seq = 1;
    for (const Datagram &d : datagrams) {
        uint8_t addr[16];
        exporter_address(d, addr);
        const dataplane::RecordMeta meta{
            addr, addr, d.src_port, 2055, d.kind, 0, 0, 0, static_cast<uint64_t>(d.arrival_ns),
            seq++};
        if (!batch_->add(meta, d.payload.data(), static_cast<uint32_t>(d.payload.size())))
            throw std::logic_error("more datagrams than one batch holds");
    }
    const uint32_t n =
        hls_kernels::flow_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch_->data()),
                                out_.get(), item_capacity_, config_, state.get(), &counters);
    std::vector<wire::FlowDescriptor> items(n);
    std::memcpy(items.data(), out_.get(), n * sizeof(wire::FlowDescriptor));
    return items;
}

std::vector<wire::FlowDescriptor> FlowEngine::records(const std::vector<Datagram> &datagrams) {
    std::vector<wire::FlowDescriptor> records;
    for (const auto &item : run(datagrams)) {
        if (item.item == static_cast<uint8_t>(wire::FlowItem::kRecord)) records.push_back(item);
    }
    return records;
}

}  // namespace tapsift::testing
