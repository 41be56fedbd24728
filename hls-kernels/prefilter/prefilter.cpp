// prefilter kernel. Synthesizable style: no heap, no recursion, no exceptions, every loop bounded
// by a constant, 64-byte beats in and out.
//
// Rules run in order; the first terminal rule whose predicates hold decides. On the card the
// rules are compared in parallel (one comparator bank per rule slot); compiled for the CPU they
// are a loop, which is what the benchmark measures. Literals ('contains') are found in one pass
// over the message: each byte pair indexes the literals starting with it, and only those are
// compared (a two-byte fast-pattern filter, as Pigasus' first stage).
#include "prefilter/prefilter.hpp"

#include <cstddef>

#include "prefilter/ioc_filter.hpp"
#include "prefilter/message_ips.hpp"
#include "tapsift_hls/ingest_reader.hpp"
#include "wire/flow_descriptor.hpp"
#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {
namespace {

using wire::ListRef;
using wire::PrefilterRule;
using wire::PrefilterTables;

bool equals_string(const PrefilterTables &t, uint32_t string_index, const uint8_t *bytes,
                   uint32_t len) {
    const wire::PrefilterString s = t.strings[string_index];
    if (s.len != len) return false;
    for (uint32_t i = 0; i < wire::kMaxPrefilterLiteralBytes; ++i) {
#pragma HLS PIPELINE II = 1
        if (i >= len) break;
        if (t.string_bytes[s.off + i] != bytes[i]) return false;
    }
    return true;
}

bool any_string(const PrefilterTables &t, ListRef list, const uint8_t *payload, wire::Span span) {
    for (uint32_t k = 0; k < wire::kMaxRefsPerList; ++k) {
        if (k >= list.count) break;
        if (equals_string(t, t.refs[list.first + k], payload + span.off, span.len)) return true;
    }
    return false;
}

bool any_literal(const PrefilterTables &t, ListRef list, const uint64_t *found) {
    for (uint32_t k = 0; k < wire::kMaxRefsPerList; ++k) {
        if (k >= list.count) break;
        const uint32_t id = t.refs[list.first + k];
        if ((found[id / 64] >> (id % 64)) & 1) return true;
    }
    return false;
}

bool in_prefix(const wire::PrefilterPrefix &p, const uint8_t addr[16]) {
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        const uint32_t bits_here = p.len > i * 8 ? p.len - i * 8 : 0;
        if (bits_here == 0) break;
        const uint8_t mask = bits_here >= 8 ? 0xff : static_cast<uint8_t>(0xff00u >> bits_here);
        if ((addr[i] & mask) != p.addr[i]) return false;
    }
    return true;
}

bool any_prefix(const PrefilterTables &t, ListRef list, const uint8_t addr[16]) {
    for (uint32_t k = 0; k < wire::kMaxRefsPerList; ++k) {
        if (k >= list.count) break;
        if (in_prefix(t.prefixes[t.refs[list.first + k]], addr)) return true;
    }
    return false;
}

bool any_range(const PrefilterTables &t, ListRef list, uint32_t v) {
    for (uint32_t k = 0; k < wire::kMaxRefsPerList; ++k) {
        if (k >= list.count) break;
        const wire::PrefilterRange r = t.ranges[t.refs[list.first + k]];
        if (v >= r.lo && v <= r.hi) return true;
    }
    return false;
}

bool literal_at(const PrefilterTables &t, uint32_t literal, const uint8_t *msg, uint32_t at,
                uint32_t len) {
    const wire::PrefilterString s = t.strings[t.literal_string[literal]];
    if (at + s.len > len) return false;
    return equals_string(t, t.literal_string[literal], msg + at, s.len);
}

// Filter candidates, rules, then the descriptor or flow item goes back out.
template <typename Descriptor>
void sift_record(const PrefilterTables &t, RecordFeatures &f, Descriptor &d, beat_t *out,
                 PrefilterCounters &ctr) {
    find_ioc_candidates(t, f);
    d.sift = wire::SiftResult{};
    d.sift.ioc_maybe = f.ioc_maybe;
    evaluate_rules(t, f, d.verdict, d.rule_id, d.sift, ctr);
    ctr.records++;
    write_beats(d, out);
}

// A descriptor, flow item or sFlow item, from its beats.
template <typename Item>
void read_item(const beat_t *beats, Item *out) {
    static_assert(sizeof(Item) % wire::kBeatBytes == 0, "items are whole beats");
    uint8_t bytes[sizeof(Item)];
    for (uint32_t b = 0; b < sizeof(Item) / wire::kBeatBytes; ++b) {
#pragma HLS PIPELINE II = 1
        beat_to_bytes(beats[b], &bytes[b * wire::kBeatBytes]);
    }
    __builtin_memcpy(out, bytes, sizeof(Item));
}

void copy16(const uint8_t *from, uint8_t *to) {
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        to[i] = from[i];
    }
}

}  // namespace

const char *predicate_name(PredicateFail p) {
    switch (p) {
        case PredicateFail::kNone:
            return "none";
        case PredicateFail::kKind:
            return "kind";
        case PredicateFail::kFacility:
            return "facility";
        case PredicateFail::kSeverity:
            return "severity";
        case PredicateFail::kHostname:
            return "hostname";
        case PredicateFail::kAppname:
            return "app_name";
        case PredicateFail::kMsgid:
            return "msgid";
        case PredicateFail::kContains:
            return "contains";
        case PredicateFail::kSource:
            return "source";
        case PredicateFail::kDestination:
            return "destination";
        case PredicateFail::kExporter:
            return "exporter";
        case PredicateFail::kSrcPort:
            return "src_port";
        case PredicateFail::kDstPort:
            return "dst_port";
        case PredicateFail::kProtocol:
            return "protocol";
        case PredicateFail::kBytes:
            return "bytes";
        case PredicateFail::kPackets:
            return "packets";
        case PredicateFail::kThreatIntel:
            return "threat_intel";
    }
    return "?";
}

PredicateFail rule_kernel_check(const PrefilterTables &t, const PrefilterRule &rule,
                                const RecordFeatures &f) {
    if (!(rule.kinds & f.kind)) return PredicateFail::kKind;
    if (f.kind == wire::kKindSyslog) {
        if (!((rule.facility_mask >> f.facility) & 1)) return PredicateFail::kFacility;
        if (!((rule.severity_mask >> f.severity) & 1)) return PredicateFail::kSeverity;
        if (rule.hostnames.count && !any_string(t, rule.hostnames, f.payload, f.hostname))
            return PredicateFail::kHostname;
        if (rule.appnames.count && !any_string(t, rule.appnames, f.payload, f.appname))
            return PredicateFail::kAppname;
        if (rule.msgids.count && !any_string(t, rule.msgids, f.payload, f.msgid))
            return PredicateFail::kMsgid;
        if (rule.literals.count && !any_literal(t, rule.literals, f.literals_found))
            return PredicateFail::kContains;
    }
    if (rule.sources.count && !any_prefix(t, rule.sources, f.src)) return PredicateFail::kSource;
    if (rule.destinations.count && !any_prefix(t, rule.destinations, f.dst))
        return PredicateFail::kDestination;
    if (f.kind == wire::kKindFlow) {
        if (rule.exporters.count && !any_prefix(t, rule.exporters, f.exporter))
            return PredicateFail::kExporter;
        if (rule.src_ports.count && !any_range(t, rule.src_ports, f.src_port))
            return PredicateFail::kSrcPort;
        if (rule.dst_ports.count && !any_range(t, rule.dst_ports, f.dst_port))
            return PredicateFail::kDstPort;
        if (rule.protocols.count && !any_range(t, rule.protocols, f.protocol))
            return PredicateFail::kProtocol;
        if (f.bytes < rule.bytes_min || f.bytes > rule.bytes_max) return PredicateFail::kBytes;
        if (f.packets < rule.packets_min || f.packets > rule.packets_max)
            return PredicateFail::kPackets;
    }
    if (rule.ioc_places && !(rule.ioc_places & f.ioc_maybe)) return PredicateFail::kThreatIntel;
    return PredicateFail::kNone;
}

uint64_t syslog_features(const PrefilterTables &t, const wire::Descriptor &d,
                         const uint8_t *payload, const uint8_t src[16], const uint8_t dst[16],
                         RecordFeatures &f) {
    f.kind = wire::kKindSyslog;
    f.facility = static_cast<uint8_t>(d.priority >> 3);
    f.severity = static_cast<uint8_t>(d.priority & 7);
    f.payload = payload;
    f.hostname = d.hostname;
    f.appname = d.appname;
    f.msgid = d.msgid;
    f.message = d.message;
    copy16(src, f.src);
    copy16(dst, f.dst);
    return find_literals(t, payload, d.message, f.literals_found);
}

void flow_features(const wire::FlowDescriptor &d, const uint8_t exporter[16], RecordFeatures &f) {
    f.kind = wire::kKindFlow;
    copy16(d.src_addr, f.src);
    copy16(d.dst_addr, f.dst);
    copy16(exporter, f.exporter);
    f.src_port = d.src_port;
    f.dst_port = d.dst_port;
    f.protocol = d.protocol;
    f.bytes = d.bytes;
    f.packets = d.packets;
}

void sflow_features(const wire::SflowSample &s, RecordFeatures &f) {
    f.kind = wire::kKindFlow;
    copy16(s.src_addr, f.src);
    copy16(s.dst_addr, f.dst);
    copy16(s.agent, f.exporter);
    f.src_port = s.src_port;
    f.dst_port = s.dst_port;
    f.protocol = s.protocol;
    const bool flow = s.item == static_cast<uint8_t>(wire::SflowItem::kFlowSample);
    f.bytes = flow ? s.frame_length : 0;
    f.packets = flow ? 1 : 0;
}

uint64_t find_literals(const PrefilterTables &t, const uint8_t *payload, wire::Span message,
                       uint64_t *literals_found) {
    for (uint32_t w = 0; w < wire::kMaxPrefilterLiterals / 64; ++w) {
#pragma HLS UNROLL factor = 8
        if (w * 64 >= t.literal_count) break;  // no reader looks past literal_count
        literals_found[w] = 0;
    }
    if (t.literal_count == 0 || message.len < 2) return 0;
    const uint8_t *msg = payload + message.off;
    uint64_t probes = 0;
    for (uint32_t at = 0; at < kMaxPayloadBufferBytes; ++at) {
        if (at + 1 >= message.len) break;
        // One bit (of 8 KiB that stay in cache) rules out most positions.
        const uint32_t two = msg[at] | (uint32_t{msg[at + 1]} << 8);
        if (!((t.gram_starts[two / 64] >> (two % 64)) & 1)) continue;
        const uint32_t buckets[2] = {two, at + 3 < message.len ? literal_gram4(msg + at) : 0};
        for (uint32_t g = 0; g < 2; ++g) {
            if (g == 1 && buckets[1] == 0) break;
            const uint32_t first = t.gram_first[buckets[g]];
            const uint32_t count = t.gram_count[buckets[g]];
            for (uint32_t k = 0; k < wire::kMaxPrefilterLiterals; ++k) {
                if (k >= count) break;
                const uint32_t id = t.gram_literals[first + k];
                probes++;
                if (literal_at(t, id, msg, at, message.len))
                    literals_found[id / 64] |= uint64_t{1} << (id % 64);
            }
        }
    }
    return probes;
}

void find_ioc_candidates(const PrefilterTables &t, RecordFeatures &f) {
    f.ioc_maybe = 0;
    if (t.ioc_header == nullptr || t.ioc_header->indicators == 0) return;
    const wire::IocFilterHeader &h = *t.ioc_header;
    if (ioc_filter_maybe(h, t.ioc_words, f.src)) f.ioc_maybe |= wire::kIocSource;
    // A syslog record's destination is the collector itself: never an indicator worth a probe.
    if (f.kind != wire::kKindSyslog) {
        if (ioc_filter_maybe(h, t.ioc_words, f.dst)) f.ioc_maybe |= wire::kIocDestination;
        return;
    }
    MessageIps ips;
    scan_message_ips(f.payload + f.message.off, f.message.len, ips);
    const bool has_v6 = (h.v6_lengths[0] | h.v6_lengths[1] | h.v6_lengths[2]) != 0;
    if ((ips.v6_candidate && has_v6) || ips.overflow) f.ioc_maybe |= wire::kIocMessage;
    for (uint32_t i = 0; i < kMaxMessageIps; ++i) {
        if (i >= ips.count) break;
        uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        addr[12] = static_cast<uint8_t>(ips.v4[i] >> 24);
        addr[13] = static_cast<uint8_t>(ips.v4[i] >> 16);
        addr[14] = static_cast<uint8_t>(ips.v4[i] >> 8);
        addr[15] = static_cast<uint8_t>(ips.v4[i]);
        if (ioc_filter_maybe(h, t.ioc_words, addr)) f.ioc_maybe |= wire::kIocMessage;
    }
    // A CEF/LEEF payload's src and dst are written in the message: the host decides whether a
    // message hit is the event's source or destination.
    if (f.ioc_maybe & wire::kIocMessage) f.ioc_maybe |= wire::kIocSource | wire::kIocDestination;
}

uint32_t anchor_bucket(uint32_t field, const uint8_t *bytes, uint32_t len) {
    uint64_t h = 1469598103934665603ull ^ field;
    h *= 1099511628211ull;
    for (uint32_t i = 0; i < wire::kMaxPrefilterLiteralBytes; ++i) {
#pragma HLS PIPELINE II = 1
        if (i >= len) break;
        h = (h ^ bytes[i]) * 1099511628211ull;
    }
    return static_cast<uint32_t>((h ^ (h >> 32)) % wire::kAnchorBuckets);
}

const uint8_t *anchor_bytes(const uint8_t addr16[16]) {
    return is_v4_mapped(addr16) ? addr16 + 12 : addr16;
}

namespace {

void add_postings(const PrefilterTables &t, wire::ListRef list, uint64_t *candidates) {
    for (uint32_t k = 0; k < wire::kMaxPrefilterRules; ++k) {
        if (k >= list.count) break;
        const uint32_t r = t.postings[list.first + k];
        candidates[r / 64] |= uint64_t{1} << (r % 64);
    }
}

void add_anchor(const PrefilterTables &t, uint32_t field, const uint8_t *bytes, uint32_t len,
                uint64_t *candidates) {
    add_postings(t, t.anchor_buckets[anchor_bucket(field, bytes, len)], candidates);
}

void add_port(const PrefilterTables &t, uint32_t field, uint16_t port, uint64_t *candidates) {
    const uint8_t bytes[2] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
    add_anchor(t, field, bytes, 2, candidates);
}

void add_address(const PrefilterTables &t, uint32_t field, const uint8_t addr16[16],
                 uint64_t *candidates) {
    add_anchor(t, field, anchor_bytes(addr16), 1, candidates);
    add_anchor(t, field | wire::kAnchorTwoBytes, anchor_bytes(addr16), 2, candidates);
}

}  // namespace

void collect_candidates(const PrefilterTables &t, const RecordFeatures &f, uint64_t *candidates) {
    const uint64_t *always = f.kind == wire::kKindSyslog ? t.always_syslog : t.always_flow;
    for (uint32_t w = 0; w < wire::kMaxPrefilterRules / 64; ++w) {
#pragma HLS PIPELINE II = 1
        if (w >= t.rule_words) break;
        candidates[w] = always[w];
    }
    if (t.rule_count == 0) return;
    add_address(t, wire::kAnchorSource, f.src, candidates);
    add_address(t, wire::kAnchorDestination, f.dst, candidates);
    if (f.kind == wire::kKindFlow) {
        add_address(t, wire::kAnchorExporter, f.exporter, candidates);
        add_port(t, wire::kAnchorDstPort, f.dst_port, candidates);
        add_port(t, wire::kAnchorSrcPort, f.src_port, candidates);
        return;
    }
    add_anchor(t, wire::kAnchorHostname, f.payload + f.hostname.off, f.hostname.len, candidates);
    add_anchor(t, wire::kAnchorAppname, f.payload + f.appname.off, f.appname.len, candidates);
    add_anchor(t, wire::kAnchorMsgid, f.payload + f.msgid.off, f.msgid.len, candidates);
    for (uint32_t w = 0; w < wire::kMaxPrefilterLiterals / 64; ++w) {
        if (w * 64 >= t.literal_count) break;
        uint64_t bits = f.literals_found[w];
        for (uint32_t b = 0; b < 64; ++b) {
            if (bits == 0) break;
            const uint32_t id = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
            bits &= bits - 1;
            add_postings(t, t.literal_rules[id], candidates);
        }
    }
}

namespace {

// What rule r's match means for the record: true when evaluation stops here.
bool apply_rule(const PrefilterTables &t, const RecordFeatures &f, uint32_t r, uint8_t &verdict,
                uint16_t &rule_id, wire::SiftResult &sift, PrefilterCounters &ctr) {
    const PrefilterRule &rule = t.rules[r];
    ctr.rule_checks++;
    if (rule_kernel_check(t, rule, f) != PredicateFail::kNone) return false;
    const bool is_tag = rule.action == uint8_t(wire::PrefilterAction::kTag);
    if (rule.host_checks || (is_tag && sift.tag_count >= wire::kMaxTagsPerRecord)) {
        verdict = static_cast<uint8_t>(wire::Verdict::kUndecided);
        rule_id = static_cast<uint16_t>(r);
        ctr.undecided++;
        return true;
    }
    if (is_tag) {
        sift.tag_rules[sift.tag_count++] = static_cast<uint16_t>(r);
        return false;
    }
    rule_id = static_cast<uint16_t>(r);  // keep, sample or route
    if (rule.action == uint8_t(wire::PrefilterAction::kDrop)) {
        verdict = static_cast<uint8_t>(wire::Verdict::kFiltered);
        ctr.dropped++;
    }
    return true;
}

}  // namespace

void evaluate_rules(const PrefilterTables &t, const RecordFeatures &f, uint8_t &verdict,
                    uint16_t &rule_id, wire::SiftResult &sift, PrefilterCounters &ctr) {
    verdict = static_cast<uint8_t>(wire::Verdict::kForward);
    rule_id = wire::kNoRule;
    uint64_t candidates[wire::kMaxPrefilterRules / 64];
    collect_candidates(t, f, candidates);
    for (uint32_t w = 0; w < wire::kMaxPrefilterRules / 64; ++w) {
        if (w >= t.rule_words) break;
        uint64_t bits = candidates[w];
        for (uint32_t b = 0; b < 64; ++b) {
            if (bits == 0) break;
            const uint32_t r = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
            bits &= bits - 1;
            if (apply_rule(t, f, r, verdict, rule_id, sift, ctr)) return;
        }
    }
    if (t.default_drop) {
        verdict = static_cast<uint8_t>(wire::Verdict::kFiltered);
        ctr.dropped++;
    }
}

void prefilter_syslog(const beat_t *ingest, beat_t *descriptors, const PrefilterTables &t,
                      PrefilterCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = descriptors offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
    uint8_t payload[kMaxPayloadBufferBytes];
#pragma HLS BIND_STORAGE variable = payload type = ram_2p impl = uram
    PrefilterCounters ctr = *counters;
    BatchHeader batch;
    if (!read_batch_header(ingest, batch)) return;
    uint32_t beat = 1;
    for (uint32_t r = 0; r < wire::kMaxRecordsPerBatch; ++r) {
        if (r >= batch.record_count || beat >= batch.total_beats) break;
        RecordHeader rec;
        read_record_header(ingest[beat], rec);
        if (beat + 1 + wire::payload_beats(rec.payload_len) > batch.total_beats) break;
        beat_t *out = descriptors + r * wire::kDescriptorBeats;
        wire::Descriptor d;
        read_item(out, &d);
        // Only what syslog_parse forwards is sifted; a descriptor whose spans leave the record (a
        // card gone wrong) is left as it is, for the host to reject.
        const bool spans_inside = d.hostname.off + d.hostname.len <= rec.payload_len &&
                                  d.appname.off + d.appname.len <= rec.payload_len &&
                                  d.msgid.off + d.msgid.len <= rec.payload_len &&
                                  d.message.off + d.message.len <= rec.payload_len;
        if (d.record_index == r && d.verdict == static_cast<uint8_t>(wire::Verdict::kForward) &&
            spans_inside) {
            copy_payload(ingest + beat + 1, rec.payload_len, payload);
            RecordFeatures f{};
            ctr.literal_probes += syslog_features(t, d, payload, rec.src_addr, rec.dst_addr, f);
            sift_record(t, f, d, out, ctr);
        }
        beat += 1 + wire::payload_beats(rec.payload_len);
    }
    *counters = ctr;
}

void prefilter_flows(const beat_t *ingest, beat_t *items, uint32_t item_count,
                     const PrefilterTables &t, PrefilterCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = items offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
    uint8_t exporters[wire::kMaxRecordsPerBatch][16];
    PrefilterCounters ctr = *counters;
    BatchHeader batch;
    if (!read_batch_header(ingest, batch)) return;
    uint32_t beat = 1;
    uint32_t records = 0;
    for (uint32_t r = 0; r < wire::kMaxRecordsPerBatch; ++r) {
        if (r >= batch.record_count || beat >= batch.total_beats) break;
        RecordHeader rec;
        read_record_header(ingest[beat], rec);
        copy16(rec.src_addr, exporters[r]);
        beat += 1 + wire::payload_beats(rec.payload_len);
        records = r + 1;
    }
    for (uint32_t k = 0; k < wire::kMaxFlowItemsPerBatch; ++k) {
        if (k >= item_count) break;
        beat_t *at = items + k * wire::kDescriptorBeats;
        wire::FlowDescriptor d;
        read_item(at, &d);
        if (d.item != static_cast<uint8_t>(wire::FlowItem::kRecord) || d.record_index >= records)
            continue;
        RecordFeatures f{};
        flow_features(d, exporters[d.record_index], f);
        sift_record(t, f, d, at, ctr);
    }
    *counters = ctr;
}

void prefilter_sflow(beat_t *items, uint32_t item_count, const PrefilterTables &t,
                     PrefilterCounters *counters) {
#pragma HLS INTERFACE m_axi port = items offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
    PrefilterCounters ctr = *counters;
    for (uint32_t k = 0; k < wire::kMaxSflowItemsPerBatch; ++k) {
        if (k >= item_count) break;
        beat_t *at = items + k * wire::kSflowItemBeats;
        wire::SflowSample s;
        read_item(at, &s);
        if (s.item == static_cast<uint8_t>(wire::SflowItem::kDatagramDone)) continue;
        RecordFeatures f{};
        sflow_features(s, f);
        sift_record(t, f, s, at, ctr);
    }
    *counters = ctr;
}

}  // namespace tapsift::hls_kernels
