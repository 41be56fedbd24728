#include "flow/aggregator.hpp"

#include <cstring>
#include <functional>

#include "event/format.hpp"
#include "event/record_fields.hpp"

namespace tapsift::flow {
namespace {

constexpr uint16_t kIeIngressInterface = 10;
constexpr uint16_t kIeEgressInterface = 14;
constexpr uint16_t kIeBgpSourceAs = 16;
constexpr uint16_t kIeBgpDestinationAs = 17;
constexpr uint32_t kTemplateFields =
    field_bit(AggregateField::kInInterface) | field_bit(AggregateField::kOutInterface) |
    field_bit(AggregateField::kSrcAs) | field_bit(AggregateField::kDstAs);

int64_t floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

// The record's own time: its end, else its start, else its datagram's export time.
int64_t record_time_ns(const wire::FlowDescriptor &d, int64_t arrival_ns) {
    if (d.flags & wire::kFlowHasEnd) return d.end_ns;
    if (d.flags & wire::kFlowHasStart) return d.start_ns;
    return d.export_ns != 0 ? d.export_ns : arrival_ns;
}

// Keeps the first `length` bits of the address within its family; returns that length.
uint8_t mask_prefix(const uint8_t in[16], uint8_t v4_length, uint8_t v6_length, uint8_t out[16]) {
    const bool v4 = event::is_ipv4_mapped(in);
    const uint8_t length = v4 ? v4_length : v6_length;
    const uint32_t keep = (v4 ? 96u : 0u) + length;  // bits of the 16 bytes
    for (uint32_t i = 0; i < 16; ++i) {
        const uint32_t bit = i * 8;
        if (bit + 8 <= keep) {
            out[i] = in[i];
        } else if (bit >= keep) {
            out[i] = 0;
        } else {
            out[i] = static_cast<uint8_t>(in[i] & (0xff00u >> (keep - bit)));
        }
    }
    return length;
}

bool same_key(const AggregateKey &a, const AggregateKey &b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

uint64_t hash_key(const AggregateKey &k) {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char *>(&k), sizeof k));
}

uint64_t table_size(uint32_t max_keys) {
    uint64_t n = 16;
    while (n < uint64_t{max_keys} * 2) n <<= 1;
    return n;
}

}  // namespace

AggregatorConfig aggregator_config(const config::FlowAggregate &cfg) {
    uint32_t fields = 0;
    for (const std::string &name : cfg.key) {
        for (uint32_t f = 0; f < static_cast<uint32_t>(AggregateField::kCount); ++f) {
            if (name == kAggregateFieldNames[f]) fields |= 1u << f;
        }
    }
    return {int64_t{cfg.window_s} * 1000000000,
            int64_t{cfg.grace_s} * 1000000000,
            cfg.max_keys,
            fields,
            static_cast<uint8_t>(cfg.ipv4_prefix_length),
            static_cast<uint8_t>(cfg.ipv6_prefix_length)};
}

Aggregator::Aggregator(const AggregatorConfig &cfg)
    : cfg_(cfg), table_(table_size(cfg.max_keys)), mask_(table_.size() - 1) {
    kept_.reserve(cfg.max_keys);
}

AggregateKey Aggregator::key_of(const AggregateInput &in, int64_t window_start_ns) const {
    const wire::FlowDescriptor &d = in.item;
    const uint32_t f = cfg_.fields;
    AggregateKey k;
    std::memset(&k, 0, sizeof k);
    k.window_start_ns = window_start_ns;
    if (f & field_bit(AggregateField::kExporter)) std::memcpy(k.exporter, in.exporter, 16);
    if (f & field_bit(AggregateField::kObservationDomain))
        k.observation_domain = d.observation_domain;
    if (f & field_bit(AggregateField::kSrcPrefix))
        k.src_prefix_length =
            mask_prefix(d.src_addr, cfg_.ipv4_prefix_length, cfg_.ipv6_prefix_length, k.src);
    if (f & field_bit(AggregateField::kDstPrefix))
        k.dst_prefix_length =
            mask_prefix(d.dst_addr, cfg_.ipv4_prefix_length, cfg_.ipv6_prefix_length, k.dst);
    if (f & field_bit(AggregateField::kProtocol)) k.protocol = d.protocol;
    if (f & field_bit(AggregateField::kSrcPort)) k.src_port = d.src_port;
    if (f & field_bit(AggregateField::kDstPort)) k.dst_port = d.dst_port;
    if (f & field_bit(AggregateField::kDirection)) k.direction = d.direction;
    if (f & field_bit(AggregateField::kTos)) k.tos = d.ip_tos;
    if (!(f & kTemplateFields) || !in.fields) return k;
    // Interfaces and AS numbers are not core fields: the first occurrence in the record, 0 when
    // it has none (or one longer than the IE's 4 bytes).
    event::FieldSpan spans[wire::kMaxTemplateFields];
    const uint32_t n =
        event::locate_fields(in.record, d.record.len, in.fields, in.field_count, spans);
    bool seen[4] = {};
    for (uint32_t i = 0; i < n; ++i) {
        if (in.fields[i].pen != 0 || spans[i].len < 1 || spans[i].len > 4) continue;
        uint32_t *to = nullptr;
        uint32_t which = 0;
        switch (in.fields[i].ie) {
            case kIeIngressInterface:
                to = (f & field_bit(AggregateField::kInInterface)) ? &k.in_interface : nullptr;
                which = 0;
                break;
            case kIeEgressInterface:
                to = (f & field_bit(AggregateField::kOutInterface)) ? &k.out_interface : nullptr;
                which = 1;
                break;
            case kIeBgpSourceAs:
                to = (f & field_bit(AggregateField::kSrcAs)) ? &k.src_as : nullptr;
                which = 2;
                break;
            case kIeBgpDestinationAs:
                to = (f & field_bit(AggregateField::kDstAs)) ? &k.dst_as : nullptr;
                which = 3;
                break;
            default:
                break;
        }
        if (!to || seen[which]) continue;
        seen[which] = true;
        *to = static_cast<uint32_t>(event::read_be(in.record + spans[i].off, spans[i].len));
    }
    return k;
}

Aggregator::Entry &Aggregator::slot_for(const AggregateKey &key) {
    for (uint64_t i = hash_key(key) & mask_;; i = (i + 1) & mask_) {
        Entry &e = table_[i];
        if (e.records == 0 || same_key(e.key, key)) return e;
    }
}

template <typename Emit>
void Aggregator::sweep(Emit &&emit_if) {
    kept_.clear();
    bool emitted = false;
    for (Entry &e : table_) {
        if (e.records == 0) continue;
        if (emit_if(e)) {
            emitted = true;
        } else {
            kept_.push_back(e);
        }
    }
    if (!emitted) return;
    // Open addressing without tombstones: the survivors are placed again.
    for (Entry &e : table_) e.records = 0;
    used_ = static_cast<uint32_t>(kept_.size());
    for (const Entry &e : kept_) slot_for(e.key) = e;
}

void Aggregator::emit(const Entry &e, AggregateFlush why, const std::string &created,
                      AggregateCounters &counters, AggregateSink &sink) {
    counters.events++;
    if (why == AggregateFlush::kTableFull) counters.early_events++;
    counters.open_records -= e.records;
    assemble_aggregate_event(e.key, cfg_.fields, cfg_.window_ns, {e.bytes, e.packets, e.records},
                             why, created, json_);
    kafka_key_.clear();
    if (cfg_.fields & field_bit(AggregateField::kExporter))
        kafka_key_ = event::address_text(e.key.exporter).view();
    sink.emit(kafka_key_, json_, e.records);
}

void Aggregator::advance(int64_t now_ns, const std::string &created, AggregateCounters &counters,
                         AggregateSink &sink) {
    if (now_ns <= watermark_ns_) return;
    watermark_ns_ = now_ns;
    const int64_t closed_before =
        floor_div(now_ns - cfg_.grace_ns, cfg_.window_ns) * cfg_.window_ns;
    if (closed_before <= closed_before_) return;
    closed_before_ = closed_before;
    sweep([&](const Entry &e) {
        if (e.key.window_start_ns >= closed_before) return false;
        emit(e, AggregateFlush::kWindowClosed, created, counters, sink);
        return true;
    });
}

void Aggregator::fold(const AggregateInput &in, const std::string &created,
                      AggregateCounters &counters, AggregateSink &sink) {
    const int64_t t = record_time_ns(in.item, in.arrival_ns);
    advance(t, created, counters, sink);
    const AggregateKey key = key_of(in, floor_div(t, cfg_.window_ns) * cfg_.window_ns);
    if (key.window_start_ns < closed_before_) counters.late_records++;
    Entry *e = &slot_for(key);
    if (e->records == 0 && used_ == cfg_.max_keys) {
        counters.early_flushes++;
        sweep([&](const Entry &open) {
            emit(open, AggregateFlush::kTableFull, created, counters, sink);
            return true;
        });
        e = &slot_for(key);
    }
    if (e->records == 0) {
        e->key = key;
        e->bytes = 0;
        e->packets = 0;
        used_++;
    }
    e->bytes += in.item.bytes * in.scale;
    e->packets += in.item.packets * in.scale;
    e->records++;
    counters.records++;
    counters.open_records++;
}

void Aggregator::flush_all(const std::string &created, AggregateCounters &counters,
                           AggregateSink &sink) {
    sweep([&](const Entry &e) {
        emit(e, AggregateFlush::kShutdown, created, counters, sink);
        return true;
    });
}

}  // namespace tapsift::flow
