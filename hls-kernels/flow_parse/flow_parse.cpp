// flow_parse kernel. Synthesizable style: no heap, no recursion, no exceptions, every loop
// bounded by a constant, 64-byte beats in and out.
//
// Per datagram: copy the payload into local memory, check the header, then walk the sets.
// Template sets go to the template store; data sets are walked record by record with their
// template (NetFlow v5 records with a constant one), and each record's addresses, ports,
// counters, times and sampling are pulled into a flow item. Naming every field is the host's job:
// every change to the templates and sampling rates is an item too, from which the host keeps its
// own copy (it never reads the engine's memory), and a record names its template by slot and
// generation.
#include "flow_parse.hpp"

#include "big_endian.hpp"
#include "tapsift_hls/ingest_reader.hpp"
#include "template_record.hpp"
#include "template_store.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/flow_store_change.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {
namespace {

using wire::FlowDescriptor;
using wire::FlowItem;
using wire::FlowMalformed;
using wire::FlowParseState;
using wire::FlowStoreChange;
using wire::FlowTemplate;
using wire::RecordKind;
using wire::TemplateField;

constexpr int64_t kNsPerMs = 1000000;
constexpr int64_t kNsPerSecond = 1000000000;
constexpr int64_t kNtpToUnixSeconds = 2208988800;  // RFC 7011 §6.1.9: NTP era 0 epoch
// Times past 2160 are ignored: in nanoseconds, any two flow times then differ by less than
// int64 holds (NTP times reach back to 1900).
constexpr uint64_t kMaxFlowTimeMs = 6000000000000;
constexpr uint32_t kMaxSets = wire::kMaxPayloadBytes / 4;
constexpr uint32_t kMaxRecordsPerSet = wire::kMaxPayloadBytes;
constexpr uint32_t kMaxFieldSpecs = wire::kMaxPayloadBytes / 4;

bool all_zero(const uint8_t *p, uint32_t n) {
    uint8_t any = 0;
    for (uint32_t i = 0; i < 16; ++i) {
        if (i < n) any |= p[i];
    }
    return any == 0;
}

void copy16(uint8_t dst[16], const uint8_t *src) {
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        dst[i] = src[i];
    }
}

void ipv4_mapped(uint8_t dst[16], const uint8_t *v4) {
    for (uint32_t i = 0; i < 10; ++i) dst[i] = 0;
    dst[10] = 0xff;
    dst[11] = 0xff;
    for (uint32_t i = 0; i < 4; ++i) dst[12 + i] = v4[i];
}

// What one datagram's header says, for every record in it.
struct Datagram {
    uint8_t bytes[kMaxPayloadBufferBytes];
    uint32_t len;
    uint32_t record_index;
    RecordKind kind;
    uint8_t exporter[16];
    int64_t arrival_ns;
    int64_t export_ns;
    uint32_t sys_uptime_ms;  // v5/v9
    uint32_t domain;
    uint32_t header_sampling;  // v5 header sampling interval
    uint32_t exporter_slot;    // this exporter and domain's ExporterOptions slot
};

// Where items go. reserve keeps room for the kPacketDone items the batch still owes.
struct Emitter {
    beat_t *out;
    uint32_t capacity;
    uint32_t written;
    uint32_t reserve;
    uint32_t lost;  // this datagram's items that found no room
};

// Returns false (and counts the item lost) when there is no room for it.
bool emit(Emitter &e, const FlowDescriptor &d, FlowParseCounters &ctr) {
    if (d.item != static_cast<uint8_t>(wire::FlowItem::kPacketDone) &&
        e.written + e.reserve >= e.capacity) {
        e.lost++;
        ctr.items_output_full++;
        return false;
    }
    write_beats(d, e.out + e.written * wire::kDescriptorBeats);
    e.written++;
    return true;
}

// Room for n more items besides the kPacketDone items the batch still owes. A state change is
// made only when its items fit: the host knows the state from them alone.
bool room(const Emitter &e, uint32_t n) {
    return e.written + e.reserve + n <= e.capacity;
}

void emit_change(Emitter &e, const FlowStoreChange &c) {  // the caller made room
    write_beats(c, e.out + e.written * wire::kDescriptorBeats);
    e.written++;
}

// What a record says beyond its item: times before they can be made absolute (sysUpTime
// needs the header's uptime), total counts (used when there is no delta), and sampling.
struct RecordExtras {
    uint32_t start_uptime_ms;
    uint32_t end_uptime_ms;
    bool start_uptime_set;
    bool end_uptime_set;
    bool src_seen;  // an IPv4 or IPv6 source address was read
    bool dst_seen;
    uint64_t system_init_ms;
    uint32_t sampling_size;
    uint32_t sampling_population;
    bool bytes_set;
    bool packets_set;
    uint64_t bytes_total;
    uint64_t packets_total;
    uint32_t interval;
    uint32_t packet_interval;  // IPFIX 305
    uint32_t packet_space;     // IPFIX 306
    uint8_t algorithm;
    bool algorithm_set;
};

int64_t ntp_to_ns(uint64_t v, bool microseconds) {
    const int64_t seconds = static_cast<int64_t>(v >> 32) - kNtpToUnixSeconds;
    uint64_t frac = v & 0xffffffffu;
    if (microseconds) frac &= ~uint64_t{0x7ff};  // RFC 7011: the low 11 bits are not counted
    return seconds * kNsPerSecond + static_cast<int64_t>((frac * kNsPerSecond) >> 32);
}

void set_start(FlowDescriptor &d, int64_t ns) {
    d.start_ns = ns;
    d.flags |= wire::kFlowHasStart;
}
void set_end(FlowDescriptor &d, int64_t ns) {
    d.end_ns = ns;
    d.flags |= wire::kFlowHasEnd;
}

// One core field's value (p, len) into the item. Lengths were checked when the template was
// stored. An IE a template repeats (tunnels: outer then inner) leaves its last value, as
// Elastic's netflow input does; the event lists every occurrence under netflow.*.
void apply_core(uint32_t k, const uint8_t *p, uint32_t len, FlowDescriptor &d, RecordExtras &x) {
    const uint64_t v = len <= 8 ? read_be(p, len) : 0;
    switch (k) {
        // A template may carry both IPv4 and IPv6 addresses (a tunnel's outer and inner header,
        // or one family left zero): the last non-zero one in template order wins, like the
        // other core fields; a zero address never replaces one already read.
        case wire::kCoreSrcIpv4:
        case wire::kCoreSrcIpv6:
            // Exact lengths only: a variable-length address field could be any length.
            if (len != (k == wire::kCoreSrcIpv4 ? 4u : 16u)) break;
            if (x.src_seen && all_zero(p, len)) break;
            if (k == wire::kCoreSrcIpv4) {
                ipv4_mapped(d.src_addr, p);
            } else {
                copy16(d.src_addr, p);
            }
            x.src_seen = true;
            d.flags |= wire::kFlowHasAddresses;
            break;
        case wire::kCoreDstIpv4:
        case wire::kCoreDstIpv6:
            if (len != (k == wire::kCoreDstIpv4 ? 4u : 16u)) break;
            if (x.dst_seen && all_zero(p, len)) break;
            if (k == wire::kCoreDstIpv4) {
                ipv4_mapped(d.dst_addr, p);
            } else {
                copy16(d.dst_addr, p);
            }
            x.dst_seen = true;
            break;
        case wire::kCoreSrcPort:
            d.src_port = static_cast<uint16_t>(v);
            break;
        case wire::kCoreDstPort:
            d.dst_port = static_cast<uint16_t>(v);
            break;
        case wire::kCoreProtocol:
            d.protocol = static_cast<uint8_t>(v);
            break;
        case wire::kCoreTos:
            d.ip_tos = static_cast<uint8_t>(v);
            break;
        case wire::kCoreTcpFlags:
            d.tcp_flags = static_cast<uint8_t>(v);
            break;
        case wire::kCoreDirection:
            d.direction = static_cast<uint8_t>(v);
            break;
        case wire::kCoreBytes:
            d.bytes = v;
            x.bytes_set = true;
            break;
        case wire::kCorePackets:
            d.packets = v;
            x.packets_set = true;
            break;
        case wire::kCoreBytesTotal:
            x.bytes_total = v;
            break;
        case wire::kCorePacketsTotal:
            x.packets_total = v;
            break;
        case wire::kCoreStartUptime:
            x.start_uptime_set = true;
            x.start_uptime_ms = static_cast<uint32_t>(v);
            break;
        case wire::kCoreEndUptime:
            x.end_uptime_set = true;
            x.end_uptime_ms = static_cast<uint32_t>(v);
            break;
        case wire::kCoreStartSeconds:
            if (v <= kMaxFlowTimeMs / 1000) set_start(d, static_cast<int64_t>(v) * kNsPerSecond);
            break;
        case wire::kCoreEndSeconds:
            if (v <= kMaxFlowTimeMs / 1000) set_end(d, static_cast<int64_t>(v) * kNsPerSecond);
            break;
        case wire::kCoreStartMilliseconds:
            if (v <= kMaxFlowTimeMs) set_start(d, static_cast<int64_t>(v) * kNsPerMs);
            break;
        case wire::kCoreEndMilliseconds:
            if (v <= kMaxFlowTimeMs) set_end(d, static_cast<int64_t>(v) * kNsPerMs);
            break;
        case wire::kCoreStartMicroseconds:
        case wire::kCoreStartNanoseconds:
            if (len == 8) set_start(d, ntp_to_ns(v, k == wire::kCoreStartMicroseconds));
            break;
        case wire::kCoreEndMicroseconds:
        case wire::kCoreEndNanoseconds:
            if (len == 8) set_end(d, ntp_to_ns(v, k == wire::kCoreEndMicroseconds));
            break;
        case wire::kCoreSamplingInterval:
            x.interval = static_cast<uint32_t>(v);
            break;
        case wire::kCoreSamplingAlgorithm:
            x.algorithm = static_cast<uint8_t>(v);
            x.algorithm_set = true;
            break;
        case wire::kCorePacketInterval:
            x.packet_interval = static_cast<uint32_t>(v);
            break;
        case wire::kCorePacketSpace:
            x.packet_space = static_cast<uint32_t>(v);
            break;
        case wire::kCoreSamplingSize:
            x.sampling_size = static_cast<uint32_t>(v);
            break;
        case wire::kCoreSamplingPopulation:
            x.sampling_population = static_cast<uint32_t>(v);
            break;
        case wire::kCoreSystemInit:
            if (v <= kMaxFlowTimeMs) x.system_init_ms = v;
            break;
        default:
            break;
    }
}

static_assert(wire::kCoreSrcIpv4 < 4 && wire::kCoreSrcIpv6 < 4 && wire::kCoreDstIpv4 < 4 &&
                  wire::kCoreDstIpv6 == 3,
              "extract_fixed takes the four address fields first");

// One address field (IPv4 and IPv6 of one direction) in template order, as walk_record would.
void extract_addresses(const wire::CoreLocation *core, uint32_t v4, uint32_t v6, const uint8_t *rec,
                       FlowDescriptor &d, RecordExtras &x) {
    const bool v6_first = core[v6].offset < core[v4].offset;
    const uint32_t first = v6_first ? v6 : v4;
    const uint32_t second = v6_first ? v4 : v6;
    if (core[first].length != 0)
        apply_core(first, rec + core[first].offset, core[first].length, d, x);
    if (core[second].length != 0)
        apply_core(second, rec + core[second].offset, core[second].length, d, x);
}

// Fixed-length templates: every core field at its known offset. Unrolled, each field is its own
// branch (always taken or never, per template) on a CPU and its own wiring on a card.
void extract_fixed(const wire::CoreLocation *core, const uint8_t *rec, FlowDescriptor &d,
                   RecordExtras &x) {
    extract_addresses(core, wire::kCoreSrcIpv4, wire::kCoreSrcIpv6, rec, d, x);
    extract_addresses(core, wire::kCoreDstIpv4, wire::kCoreDstIpv6, rec, d, x);
#pragma GCC unroll 32
    for (uint32_t k = wire::kCoreDstIpv6 + 1; k < wire::kCoreFieldCount; ++k) {
#pragma HLS UNROLL
        if (core[k].length != 0) apply_core(k, rec + core[k].offset, core[k].length, d, x);
    }
}

// Templates with variable-length fields: walk the record. Returns the bytes it takes, or 0 when a
// field runs past avail (the set is cut short).
uint32_t walk_record(const uint8_t *rec, uint32_t avail, const TemplateField *fields,
                     uint32_t field_count, FlowDescriptor &d, RecordExtras &x) {
    uint32_t at = 0;
    for (uint32_t i = 0; i < wire::kMaxTemplateFields; ++i) {
        if (i >= field_count) break;
        uint32_t len = fields[i].length;
        if (len == wire::kVariableLength) {  // RFC 7011 §7: 1-byte length, or 255 + 2 bytes
            if (at + 1 > avail) return 0;
            len = rec[at++];
            if (len == 255) {
                if (at + 2 > avail) return 0;
                len = be16(rec + at);
                at += 2;
            }
        }
        if (at + len > avail) return 0;
        if (fields[i].pen == 0 && len > 0) apply_core(core_of(fields[i].ie), rec + at, len, d, x);
        at += len;
    }
    return at;
}

int64_t uptime_to_ns(const Datagram &dg, uint32_t uptime_ms) {
    // Differences in 32-bit arithmetic: the exporter's uptime counter wraps after 49.7 days.
    const int32_t ago_ms = static_cast<int32_t>(dg.sys_uptime_ms - uptime_ms);
    return dg.export_ns - static_cast<int64_t>(ago_ms) * kNsPerMs;
}

bool options_match(const wire::ExporterOptions &e, const Datagram &dg) {
    if (!e.in_use || e.domain != dg.domain) return false;
    for (uint32_t i = 0; i < 16; ++i) {
        if (e.exporter[i] != dg.exporter[i]) return false;
    }
    return true;
}

// 1-in-N from what the record said: samplingInterval, IPFIX's random n-out-of-N (309/310), or
// its packet interval and space (305/306).
uint32_t sampling_rate(const RecordExtras &s) {
    if (s.interval != 0) return s.interval;
    if (s.sampling_size != 0 && s.sampling_population != 0)
        return s.sampling_population / s.sampling_size;
    if (s.packet_interval != 0) return (s.packet_interval + s.packet_space) / s.packet_interval;
    return 0;
}

FlowStoreChange change_for(const Datagram &dg, FlowItem item, uint32_t slot) {
    FlowStoreChange c{};
    c.record_index = dg.record_index;
    c.item = static_cast<uint8_t>(item);
    c.kind = static_cast<uint8_t>(dg.kind);
    c.slot = static_cast<uint16_t>(slot);
    return c;
}

// A template change: the key, generation and refresh time of the template in slot.
FlowStoreChange template_change(const Datagram &dg, FlowItem item, uint32_t slot,
                                const FlowTemplate &t) {
    FlowStoreChange c = change_for(dg, item, slot);
    c.kind = t.kind;
    c.flags = t.options ? wire::kFlowOptions : 0;
    c.template_id = t.template_id;
    c.generation = t.generation;
    c.domain = t.domain;
    c.refreshed_ns = t.refreshed_ns;
    copy16(c.exporter, t.exporter);
    return c;
}

FlowStoreChange options_change(const Datagram &dg, FlowItem item, const wire::ExporterOptions &o) {
    FlowStoreChange c = change_for(dg, item, dg.exporter_slot);
    c.domain = o.domain;
    c.sampling_interval = o.interval;
    c.sampling_algorithm = o.algorithm;
    c.system_init_ms = o.system_init_ms;
    copy16(c.exporter, o.exporter);
    return c;
}

bool same_options(const wire::ExporterOptions &a, const wire::ExporterOptions &b) {
    return a.in_use == b.in_use && a.interval == b.interval && a.algorithm == b.algorithm &&
           a.system_init_ms == b.system_init_ms;
}

// Options data: what it says about sampling and the sysUpTime base is kept per exporter and
// domain.
void learn_options(FlowParseState &state, const Datagram &dg, const RecordExtras &s, Emitter &e,
                   FlowParseCounters &ctr) {
    const uint32_t rate = sampling_rate(s);
    if (rate == 0 && s.system_init_ms == 0) return;
    wire::ExporterOptions &have = state.exporter_options[dg.exporter_slot];
    const bool mine = options_match(have, dg);
    wire::ExporterOptions next = have;
    if (!mine) {
        next = wire::ExporterOptions{};
        copy16(next.exporter, dg.exporter);
        next.domain = dg.domain;
        next.in_use = 1;
    }
    if (rate != 0) {
        next.interval = rate;
        next.algorithm = s.algorithm_set ? s.algorithm : 0;
    }
    if (s.system_init_ms != 0) next.system_init_ms = static_cast<int64_t>(s.system_init_ms);
    const bool evicts = !mine && have.in_use;
    if (mine && same_options(have, next)) {  // said again: nothing changes
        if (rate != 0) ctr.sampling_updates++;
        return;
    }
    if (!room(e, evicts ? 2 : 1)) {
        ctr.changes_refused++;
        return;
    }
    if (evicts) {
        emit_change(e, options_change(dg, FlowItem::kExporterOptionsEvicted, have));
        ctr.exporter_option_evictions++;
    }
    have = next;
    emit_change(e, options_change(dg, FlowItem::kExporterOptions, have));
    if (rate != 0) ctr.sampling_updates++;
}

// The record's own sampling fields, else the exporter's options data, else the v5 header.
void apply_sampling(const FlowParseState &state, const Datagram &dg, const RecordExtras &s,
                    FlowDescriptor &d) {
    const uint32_t own = sampling_rate(s);
    const wire::ExporterOptions &e = state.exporter_options[dg.exporter_slot];
    if (own != 0) {
        d.sampling_interval = own;
        d.sampling_algorithm = s.algorithm;
    } else if (options_match(e, dg)) {
        d.sampling_interval = e.interval;
        d.sampling_algorithm = e.algorithm;
    } else {
        d.sampling_interval = dg.header_sampling;
    }
}

// IPFIX has no header uptime: sysUpTime fields count from systemInitTimeMilliseconds, from the
// record itself or the exporter's options data. 0 when neither said.
int64_t system_init_ms(const FlowParseState &state, const Datagram &dg, const RecordExtras &x) {
    if (x.system_init_ms != 0) return static_cast<int64_t>(x.system_init_ms);
    const wire::ExporterOptions &e = state.exporter_options[dg.exporter_slot];
    return options_match(e, dg) ? e.system_init_ms : 0;
}

FlowDescriptor item_for(const Datagram &dg, wire::FlowItem item) {
    FlowDescriptor d{};
    d.record_index = dg.record_index;
    d.item = static_cast<uint8_t>(item);
    d.verdict = static_cast<uint8_t>(wire::Verdict::kForward);
    d.kind = static_cast<uint8_t>(dg.kind);
    d.observation_domain = dg.domain;
    d.export_ns = dg.export_ns;
    d.sys_uptime_ms = dg.sys_uptime_ms;
    d.direction = 0xff;
    return d;
}

// Every record of one data set (body = its bytes after the set header), with template t
// (slot -1: NetFlow v5's constant one).
void decode_records(const Datagram &dg, uint32_t body, uint32_t end, const FlowTemplate &t,
                    int32_t slot, FlowParseState &state, Emitter &e, FlowParseCounters &ctr) {
    FlowDescriptor base = item_for(dg, wire::FlowItem::kRecord);
    base.template_id = t.template_id;
    base.template_slot = slot >= 0 ? static_cast<uint16_t>(slot) : wire::kNoTemplateSlot;
    base.template_generation = slot >= 0 ? t.generation : 0;
    base.flags = (t.options ? wire::kFlowOptions : 0) | (t.reverse ? wire::kFlowBiflow : 0);
    const bool uptimes = dg.kind != RecordKind::kIpfix;  // IPFIX headers carry no uptime
    uint32_t at = body;
    for (uint32_t r = 0; r < kMaxRecordsPerSet; ++r) {
        if (end - at < t.min_record_bytes) break;  // what is left is padding
        FlowDescriptor d = base;
        RecordExtras x{};
        uint32_t used = t.min_record_bytes;
        if (t.variable) {
            ctr.field_steps += t.field_count;
            used = walk_record(&dg.bytes[at], end - at, t.fields, t.field_count, d, x);
            if (used == 0) {
                ctr.records_truncated++;
                break;
            }
        } else {
            extract_fixed(t.core, &dg.bytes[at], d, x);
        }
        if (!x.bytes_set) d.bytes = x.bytes_total;
        if (!x.packets_set) d.packets = x.packets_total;
        if (uptimes) {
            if (x.start_uptime_set) set_start(d, uptime_to_ns(dg, x.start_uptime_ms));
            if (x.end_uptime_set) set_end(d, uptime_to_ns(dg, x.end_uptime_ms));
        } else if (const int64_t base = system_init_ms(state, dg, x)) {
            if (x.start_uptime_set) set_start(d, (base + x.start_uptime_ms) * kNsPerMs);
            if (x.end_uptime_set) set_end(d, (base + x.end_uptime_ms) * kNsPerMs);
        }
        d.record = wire::Span{static_cast<uint16_t>(at), static_cast<uint16_t>(used)};
        if (t.options) {
            ctr.options_records++;
            learn_options(state, dg, x, e, ctr);
        } else {
            apply_sampling(state, dg, x, d);
        }
        if (!emit(e, d, ctr)) {
            // No room left in this batch: the rest of the set is lost, and counted, without
            // decoding it (a flood of tiny records must not cost more once nothing can leave).
            if (!t.variable) {
                const uint32_t rest = (end - at - used) / t.min_record_bytes;
                e.lost += rest;
                ctr.items_output_full += rest;
            }
            break;
        }
        ctr.records++;
        at += used;
    }
}

// NetFlow v5's fixed record as a template, so v5 records take the same path as the others.
void netflow_v5_template(FlowTemplate &t) {
    t = FlowTemplate{};
    t.kind = static_cast<uint8_t>(RecordKind::kNetflowV5);
    t.field_count = wire::kNetflowV5Fields;
    t.min_record_bytes = wire::kNetflowV5RecordBytes;
    for (uint32_t i = 0; i < wire::kNetflowV5Fields; ++i) t.fields[i] = wire::kNetflowV5Template[i];
    template_locate_core(t);
}

void reject(FlowParseCounters &ctr, TemplateRejected why) {
    ctr.templates_rejected[static_cast<uint32_t>(why)]++;
}

FlowItem item_of(StoreOutcome outcome) {
    switch (outcome) {
        case StoreOutcome::kReplaced:
            return FlowItem::kTemplateReplaced;
        case StoreOutcome::kRefreshed:
            return FlowItem::kTemplateRefreshed;
        default:
            return FlowItem::kTemplateLearned;
    }
}

// Stores a template read from the record at `record`, and tells the host: an eviction, then the
// template learned, replaced or refreshed.
void store_template(const Datagram &dg, const FlowTemplate &t, wire::Span record,
                    FlowParseState &state, Emitter &e, FlowParseCounters &ctr) {
    const TemplatePlace place = template_place(state, t);
    FlowTemplate &have = state.templates[place.slot];
    if (place.outcome == StoreOutcome::kRefreshed && have.refreshed_ns == t.refreshed_ns) {
        ctr.templates_refreshed++;  // said again in the same datagram: nothing changes
        return;
    }
    const bool evicts = place.outcome == StoreOutcome::kEvicted;
    if (!room(e, evicts ? 2 : 1)) {
        ctr.changes_refused++;
        return;
    }
    if (evicts) emit_change(e, template_change(dg, FlowItem::kTemplateEvicted, place.slot, have));
    template_commit(state, place, t);
    FlowStoreChange c = template_change(dg, item_of(place.outcome), place.slot, have);
    if (place.outcome != StoreOutcome::kRefreshed) c.record = record;
    emit_change(e, c);
    switch (place.outcome) {
        case StoreOutcome::kLearned:
            ctr.templates_learned++;
            break;
        case StoreOutcome::kRefreshed:
            ctr.templates_refreshed++;
            break;
        case StoreOutcome::kReplaced:
            ctr.templates_replaced++;
            break;
        case StoreOutcome::kEvicted:
            ctr.templates_learned++;
            ctr.templates_evicted++;
            break;
    }
}

// RFC 7011 §8.1: a template withdrawal.
void withdraw_template(const Datagram &dg, uint16_t template_id, FlowParseState &state, Emitter &e,
                       FlowParseCounters &ctr) {
    const int32_t slot = template_find(state, dg.exporter, dg.domain, template_id);
    if (slot < 0) return;
    if (!room(e, 1)) {
        ctr.changes_refused++;
        return;
    }
    FlowTemplate &t = state.templates[slot];
    t.in_use = 0;  // its fields stay: records already returned are still named by generation
    emit_change(e, template_change(dg, FlowItem::kTemplateWithdrawn, slot, t));
    ctr.templates_withdrawn++;
}

// One template set (template_set_id) or options template set; each record goes to the store.
void decode_templates(const Datagram &dg, uint32_t body, uint32_t end, bool options,
                      FlowParseState &state, Emitter &e, FlowParseCounters &ctr) {
    uint32_t p = body;
    for (uint32_t r = 0; r < kMaxFieldSpecs; ++r) {
        FlowTemplate t;
        const TemplateRecordRead read = read_template_record(dg.bytes, p, end, dg.kind, options, t);
        ctr.field_steps += read.field_specs;
        if (read.status == TemplateRecordStatus::kEnd) break;  // padding
        if (read.status == TemplateRecordStatus::kTruncated) {
            reject(ctr, TemplateRejected::kTruncated);
            return;  // the rest of the set cannot be framed
        }
        const wire::Span record{static_cast<uint16_t>(p), static_cast<uint16_t>(read.bytes)};
        p += read.bytes;
        if (read.status == TemplateRecordStatus::kRejected) {
            reject(ctr, read.why);
        } else if (read.status == TemplateRecordStatus::kWithdrawal) {
            withdraw_template(dg, t.template_id, state, e, ctr);
        } else {
            copy16(t.exporter, dg.exporter);
            t.domain = dg.domain;
            t.refreshed_ns = dg.arrival_ns;
            t.used_ns = dg.arrival_ns;
            store_template(dg, t, record, state, e, ctr);
        }
    }
}

void decode_data_set(const Datagram &dg, uint32_t set_start, uint32_t end, uint16_t set_id,
                     FlowParseState &state, int64_t timeout_ns, Emitter &e,
                     FlowParseCounters &ctr) {
    int32_t slot = template_find(state, dg.exporter, dg.domain, set_id);
    if (slot >= 0 && dg.arrival_ns - state.templates[slot].refreshed_ns > timeout_ns) {
        if (!room(e, 1)) {
            // No room to tell the host: the template stays for a later batch, and the set is
            // lost like any item past the capacity (as its kPendingSet item would be).
            ctr.changes_refused++;
            e.lost++;
            ctr.items_output_full++;
            return;
        }
        state.templates[slot].in_use = 0;
        emit_change(e,
                    template_change(dg, FlowItem::kTemplateExpired, slot, state.templates[slot]));
        ctr.templates_expired++;
        slot = -1;
    }
    if (slot < 0) {  // the host holds the set until its template arrives
        FlowDescriptor d = item_for(dg, wire::FlowItem::kPendingSet);
        d.template_id = set_id;
        d.template_slot = wire::kNoTemplateSlot;
        d.record =
            wire::Span{static_cast<uint16_t>(set_start), static_cast<uint16_t>(end - set_start)};
        ctr.sets_without_template++;
        emit(e, d, ctr);
        return;
    }
    FlowTemplate &t = state.templates[slot];
    if (dg.arrival_ns > t.used_ns) t.used_ns = dg.arrival_ns;  // resubmitted sets are older
    decode_records(dg, set_start + 4, end, t, slot, state, e, ctr);
}

// v9 and IPFIX: header, then sets. Returns why the datagram is malformed, or kNone.
FlowMalformed decode_sets(Datagram &dg, FlowParseState &state, int64_t timeout_ns, Emitter &e,
                          FlowParseCounters &ctr) {
    const bool ipfix = dg.kind == RecordKind::kIpfix;
    const uint32_t header = ipfix ? wire::kIpfixHeaderBytes : wire::kNetflowV9HeaderBytes;
    if (dg.len < header) return FlowMalformed::kTruncatedHeader;
    uint32_t end = dg.len;
    if (ipfix) {
        end = be16(&dg.bytes[2]);
        // Bytes after the message are ignored (some exporters pad the datagram).
        if (end < header || end > dg.len) return FlowMalformed::kBadLength;
        dg.export_ns = static_cast<int64_t>(be32(&dg.bytes[4])) * kNsPerSecond;
        dg.domain = be32(&dg.bytes[12]);
    } else {
        dg.sys_uptime_ms = be32(&dg.bytes[4]);
        dg.export_ns = static_cast<int64_t>(be32(&dg.bytes[8])) * kNsPerSecond;
        dg.domain = be32(&dg.bytes[16]);
    }
    dg.exporter_slot = exporter_slot(dg.exporter, dg.domain);
    const uint32_t template_set = ipfix ? 2 : 0;
    const uint32_t options_set = ipfix ? 3 : 1;
    uint32_t p = header;
    for (uint32_t s = 0; s < kMaxSets; ++s) {
        if (end - p < 4) break;  // v9 exporters may pad the datagram
        const uint32_t id = be16(&dg.bytes[p]);
        const uint32_t len = be16(&dg.bytes[p + 2]);
        if (id == 0 && len == 0) break;  // a zero-filled tail: padding, as some v9 exporters send
        if (len < 4 || len > end - p) return FlowMalformed::kBadSetLength;
        ctr.sets++;
        if (id == template_set || id == options_set) {
            decode_templates(dg, p + 4, p + len, id == options_set, state, e, ctr);
        } else if (id >= 256) {
            decode_data_set(dg, p, p + len, static_cast<uint16_t>(id), state, timeout_ns, e, ctr);
        } else {
            ctr.sets_unknown_id++;
        }
        p += len;
    }
    return FlowMalformed::kNone;
}

FlowMalformed decode_v5(Datagram &dg, const FlowTemplate &v5, FlowParseState &state, Emitter &e,
                        FlowParseCounters &ctr) {
    if (dg.len < wire::kNetflowV5HeaderBytes) return FlowMalformed::kTruncatedHeader;
    const uint32_t count = be16(&dg.bytes[2]);
    if (wire::kNetflowV5HeaderBytes + count * wire::kNetflowV5RecordBytes > dg.len)
        return FlowMalformed::kBadLength;
    dg.sys_uptime_ms = be32(&dg.bytes[4]);
    dg.export_ns = static_cast<int64_t>(be32(&dg.bytes[8])) * kNsPerSecond + be32(&dg.bytes[12]);
    dg.domain = be16(&dg.bytes[20]);  // engine type and engine id
    dg.exporter_slot = exporter_slot(dg.exporter, dg.domain);
    dg.header_sampling = be16(&dg.bytes[22]) & 0x3fff;
    decode_records(dg, wire::kNetflowV5HeaderBytes,
                   wire::kNetflowV5HeaderBytes + count * wire::kNetflowV5RecordBytes, v5, -1, state,
                   e, ctr);
    return FlowMalformed::kNone;
}

FlowMalformed decode_datagram(Datagram &dg, const FlowTemplate &v5, FlowParseState &state,
                              int64_t timeout_ns, Emitter &e, FlowParseCounters &ctr) {
    if (dg.len < 2) return FlowMalformed::kTruncatedHeader;
    const uint32_t version = be16(dg.bytes);
    switch (dg.kind) {
        case RecordKind::kNetflowV5:
            return version == 5 ? decode_v5(dg, v5, state, e, ctr) : FlowMalformed::kBadVersion;
        case RecordKind::kNetflowV9:
            return version == 9 ? decode_sets(dg, state, timeout_ns, e, ctr)
                                : FlowMalformed::kBadVersion;
        case RecordKind::kIpfix:
            return version == 10 ? decode_sets(dg, state, timeout_ns, e, ctr)
                                 : FlowMalformed::kBadVersion;
        default:
            return FlowMalformed::kBadVersion;
    }
}

}  // namespace

uint32_t flow_parse(const beat_t *ingest, beat_t *items, uint32_t out_capacity,
                    const FlowParseConfig &config, FlowParseState *state,
                    FlowParseCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = items offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = state offset = slave bundle = gmem2
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
#pragma HLS INTERFACE s_axilite port = out_capacity
#pragma HLS INTERFACE s_axilite port = config
#pragma HLS INTERFACE s_axilite port = return
    Datagram dg;  // one URAM buffer in hardware; on the stack so lcores can share the code
#pragma HLS BIND_STORAGE variable = dg.bytes type = ram_2p impl = uram
    FlowParseCounters ctr = *counters;
    BatchHeader batch;
    if (!read_batch_header(ingest, batch)) {
        ctr.bad_batches++;
        *counters = ctr;
        return 0;
    }
    FlowTemplate v5;
    netflow_v5_template(v5);
    const uint32_t records = batch.record_count < wire::kMaxRecordsPerBatch
                                 ? batch.record_count
                                 : wire::kMaxRecordsPerBatch;
    Emitter e{items, out_capacity, 0, records, 0};
    uint32_t beat = 1;
    for (uint32_t r = 0; r < wire::kMaxRecordsPerBatch; ++r) {
        if (r >= records || beat >= batch.total_beats) break;
        RecordHeader rec;
        read_record_header(ingest[beat], rec);
        if (beat + 1 + wire::payload_beats(rec.payload_len) > batch.total_beats) break;
        dg.len = rec.payload_len;
        dg.record_index = r;
        dg.kind = static_cast<RecordKind>(rec.kind);
        copy16(dg.exporter, rec.src_addr);
        dg.arrival_ns = rec.arrival_ns;
        dg.export_ns = 0;
        dg.sys_uptime_ms = 0;
        dg.domain = 0;
        dg.header_sampling = 0;
        ctr.beats_in += 1 + copy_payload(ingest + beat + 1, rec.payload_len, dg.bytes);
        e.reserve = records - r;  // kPacketDone items still owed, this datagram's included
        e.lost = 0;
        const FlowMalformed why =
            decode_datagram(dg, v5, *state, config.template_timeout_ns, e, ctr);
        FlowDescriptor done = item_for(dg, wire::FlowItem::kPacketDone);
        done.items_lost = e.lost;
        if (why != FlowMalformed::kNone) {
            done.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
            done.malformed_reason = static_cast<uint8_t>(why);
        }
        ctr.packets++;
        emit(e, done, ctr);
        beat += 1 + wire::payload_beats(rec.payload_len);
    }
    ctr.items += e.written;
    *counters = ctr;
    return e.written;
}

}  // namespace tapsift::hls_kernels
