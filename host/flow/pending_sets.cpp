#include "pending_sets.hpp"

#include <cstring>

#include "wire/flow_template.hpp"

namespace tapsift::flow {
namespace {

uint32_t header_bytes(uint8_t kind) {
    return static_cast<wire::RecordKind>(kind) == wire::RecordKind::kIpfix
               ? wire::kIpfixHeaderBytes
               : wire::kNetflowV9HeaderBytes;
}

}  // namespace

bool PendingSets::hold(const wire::IngestRecordHeader &datagram, const uint8_t *payload,
                       wire::Span set, uint32_t first_record) {
    const uint32_t header = header_bytes(datagram.kind);
    const uint64_t size = header + set.len;
    Exporter exporter;
    std::memcpy(exporter.data(), datagram.src_addr, exporter.size());
    uint64_t &mine = exporter_bytes_[exporter];
    if (bytes_ + size > limits_.max_bytes || mine + size > limits_.max_bytes_per_exporter) {
        if (mine == 0) exporter_bytes_.erase(exporter);
        return false;
    }
    HeldSet s;
    s.datagram = datagram;
    s.payload.assign(payload, payload + header);
    s.payload.insert(s.payload.end(), payload + set.off, payload + set.off + set.len);
    if (static_cast<wire::RecordKind>(datagram.kind) == wire::RecordKind::kIpfix) {
        s.payload[2] = static_cast<uint8_t>(size >> 8);  // the message length now covers one set
        s.payload[3] = static_cast<uint8_t>(size);
    }
    s.datagram.payload_len = static_cast<uint16_t>(size);
    std::memcpy(s.key.exporter.data(), datagram.src_addr, 16);
    const uint32_t domain_at = header == wire::kIpfixHeaderBytes ? 12 : 16;
    s.key.domain = (uint32_t{payload[domain_at]} << 24) | (payload[domain_at + 1] << 16) |
                   (payload[domain_at + 2] << 8) | payload[domain_at + 3];
    s.key.template_id = static_cast<uint16_t>((payload[set.off] << 8) | payload[set.off + 1]);
    s.datagram.flags |= wire::kRecordResubmitted;
    s.first_record = first_record;
    mine += size;
    bytes_ += size;
    sets_.push_back(std::move(s));
    return true;
}

void PendingSets::forget(const HeldSet &s) {
    Exporter exporter;
    std::memcpy(exporter.data(), s.datagram.src_addr, exporter.size());
    const auto it = exporter_bytes_.find(exporter);
    it->second -= s.payload.size();
    if (it->second == 0) exporter_bytes_.erase(it);
    bytes_ -= s.payload.size();
}

uint64_t PendingSets::expire(int64_t now_ns) {
    uint64_t expired = 0;
    while (!sets_.empty() &&
           now_ns - static_cast<int64_t>(sets_.front().datagram.arrival_ns) > limits_.timeout_ns) {
        forget(sets_.front());
        sets_.pop_front();
        expired++;
    }
    return expired;
}

uint32_t PendingSets::move_ready(dataplane::IngestBatchBuilder &batch,
                                 const std::function<bool(const Key &)> &ready,
                                 std::vector<uint32_t> &first_records) {
    uint32_t moved = 0;
    bool batch_full = false;
    std::deque<HeldSet> kept;
    for (HeldSet &s : sets_) {
        if (batch_full || !ready(s.key)) {
            kept.push_back(std::move(s));
            continue;
        }
        const wire::IngestRecordHeader &d = s.datagram;
        const dataplane::RecordMeta meta{
            d.src_addr, d.dst_addr, d.src_port, d.dst_port,   static_cast<wire::RecordKind>(d.kind),
            d.flags,    d.port_id,  d.queue_id, d.arrival_ns, d.packet_seq};
        if (!batch.add(meta, s.payload.data(), static_cast<uint32_t>(s.payload.size()))) {
            batch_full = true;
            kept.push_back(std::move(s));
            continue;
        }
        first_records.push_back(s.first_record);
        forget(s);
        moved++;
    }
    sets_.swap(kept);
    return moved;
}

uint64_t PendingSets::clear() {
    const uint64_t held = sets_.size();
    sets_.clear();
    exporter_bytes_.clear();
    bytes_ = 0;
    return held;
}

}  // namespace tapsift::flow
