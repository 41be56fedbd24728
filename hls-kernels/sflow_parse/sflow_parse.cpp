// sflow_parse kernel. Synthesizable style: no heap, no recursion, no exceptions, every loop
// bounded by a constant, 64-byte beats in and out.
//
// Per datagram: copy the payload into local memory, check the header (version 5, IPv4 or IPv6
// agent), then walk the samples and each sample's records by their lengths (XDR: big-endian,
// 4-byte aligned). Known records fill the sample's fixed fields; unknown ones are skipped and
// counted. A length that runs past its container makes the datagram malformed; what was decoded
// before it is still returned.
#include "sflow_parse.hpp"

#include "flow_parse/big_endian.hpp"
#include "sampled_header.hpp"
#include "tapsift_hls/ingest_reader.hpp"

#include "tapsift_hls/no_alloc.hpp"  // last: poisons heap use in kernel code

namespace tapsift::hls_kernels {
namespace {

using wire::SflowMalformed;
using wire::SflowSample;

constexpr uint32_t kAgentIpv4 = 1;
constexpr uint32_t kAgentIpv6 = 2;
constexpr uint32_t kMaxAsPathSegments = 8;  // extended_gateway: later segments are not read
constexpr uint32_t kSampleHeaderBytes = 8;  // data_format, length
constexpr uint32_t kRecordHeaderBytes = 8;

// Sample formats (enterprise 0).
constexpr uint32_t kFlowSample = 1;
constexpr uint32_t kCounterSample = 2;
constexpr uint32_t kFlowSampleExpanded = 3;
constexpr uint32_t kCounterSampleExpanded = 4;

// Record formats (enterprise 0).
constexpr uint32_t kRecordSampledHeader = 1;
constexpr uint32_t kRecordSampledEthernet = 2;
constexpr uint32_t kRecordSampledIpv4 = 3;
constexpr uint32_t kRecordSampledIpv6 = 4;
constexpr uint32_t kRecordExtendedSwitch = 1001;
constexpr uint32_t kRecordExtendedRouter = 1002;
constexpr uint32_t kRecordExtendedGateway = 1003;
constexpr uint32_t kRecordGenericInterface = 1;
constexpr uint32_t kRecordEthernetInterface = 2;

constexpr uint32_t kGenericInterfaceBytes = 88;
constexpr uint32_t kEthernetInterfaceBytes = 4 * wire::kSflowEthCounters;

void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n) {
    for (uint32_t i = 0; i < 16; ++i) {
        if (i >= n) break;
        dst[i] = src[i];
    }
}

void ipv4_mapped(uint8_t dst[16], const uint8_t *v4) {
    for (uint32_t i = 0; i < 10; ++i) dst[i] = 0;
    dst[10] = 0xff;
    dst[11] = 0xff;
    copy_bytes(dst + 12, v4, 4);
}

uint64_t be64(const uint8_t *p) {
    return read_be(p, 8);
}

// An sFlow address (type, then 4 or 16 bytes). Returns its length in bytes, 0 if the type is
// neither IPv4 nor IPv6 or it runs past len.
uint32_t read_address(const uint8_t *p, uint32_t len, uint8_t out[16], bool &ipv6) {
    if (len < 4) return 0;
    const uint32_t type = be32(p);
    const uint32_t bytes = type == kAgentIpv4 ? 4 : type == kAgentIpv6 ? 16 : 0;
    if (bytes == 0 || 4 + bytes > len) return 0;
    ipv6 = type == kAgentIpv6;
    if (ipv6)
        copy_bytes(out, p + 4, 16);
    else
        ipv4_mapped(out, p + 4);
    return 4 + bytes;
}

// Record decoders: false when the record is shorter than its format.
bool sampled_header(const uint8_t *p, uint32_t len, SflowSample &s, SflowParseCounters &ctr) {
    if (len < 16) return false;
    const uint32_t protocol = be32(p);
    const uint32_t header_len = be32(p + 12);
    if (header_len > len - 16) return false;
    s.header_protocol = static_cast<uint8_t>(protocol > 0xff ? 0 : protocol);
    s.frame_length = be32(p + 4);
    s.stripped = be32(p + 8);
    const uint32_t before = s.flags;
    if (decode_sampled_header(p + 16, header_len, protocol, s))
        ctr.headers_decoded++;
    else
        ctr.headers_other++;
    if ((s.flags & wire::kSflowHeaderCut) && !(before & wire::kSflowHeaderCut)) ctr.headers_cut++;
    return true;
}

bool sampled_ethernet(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < 24) return false;
    if (s.flags & wire::kSflowHasEthernet) return true;  // the sampled header said it already
    if (s.frame_length == 0) s.frame_length = be32(p);
    copy_bytes(s.src_mac, p + 4, 6);
    copy_bytes(s.dst_mac, p + 12, 6);
    s.ether_type = static_cast<uint16_t>(be32(p + 20));
    s.flags |= wire::kSflowHasEthernet;
    return true;
}

// sampled_ipv4 and sampled_ipv6 share their layout past the addresses.
bool sampled_ip(const uint8_t *p, uint32_t len, bool ipv6, SflowSample &s) {
    const uint32_t addr = ipv6 ? 16 : 4;
    const uint32_t rest = 8 + 2 * addr;
    if (len < rest + 16) return false;
    if (s.flags & wire::kSflowHasIp) return true;  // the sampled header said it already
    if (s.frame_length == 0) s.frame_length = be32(p);
    s.protocol = static_cast<uint8_t>(be32(p + 4));
    if (ipv6) {
        copy_bytes(s.src_addr, p + 8, 16);
        copy_bytes(s.dst_addr, p + 24, 16);
        s.flags |= wire::kSflowIpv6;
    } else {
        ipv4_mapped(s.src_addr, p + 8);
        ipv4_mapped(s.dst_addr, p + 12);
    }
    s.src_port = static_cast<uint16_t>(be32(p + rest));
    s.dst_port = static_cast<uint16_t>(be32(p + rest + 4));
    s.tcp_flags = static_cast<uint8_t>(be32(p + rest + 8));
    s.tos = static_cast<uint8_t>(be32(p + rest + 12));
    s.flags |= wire::kSflowHasIp;
    if (s.protocol == 6 || s.protocol == 17) s.flags |= wire::kSflowHasPorts;
    return true;
}

bool extended_switch(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < 16) return false;
    s.src_vlan = be32(p);
    s.src_priority = be32(p + 4);
    s.dst_vlan = be32(p + 8);
    s.dst_priority = be32(p + 12);
    s.flags |= wire::kSflowHasSwitch;
    return true;
}

bool next_hop(const uint8_t *p, uint32_t len, SflowSample &s, uint32_t &used) {
    bool ipv6 = false;
    used = read_address(p, len, s.next_hop, ipv6);
    if (used == 0) return false;
    if (ipv6) s.flags |= wire::kSflowNextHopIpv6;
    return true;
}

bool extended_router(const uint8_t *p, uint32_t len, SflowSample &s) {
    uint32_t at = 0;
    if (!next_hop(p, len, s, at) || at + 8 > len) return false;
    s.src_mask = static_cast<uint8_t>(be32(p + at));
    s.dst_mask = static_cast<uint8_t>(be32(p + at + 4));
    s.flags |= wire::kSflowHasRouter;
    return true;
}

// The AS path's first and last AS are kept (the destination's peer and the destination); the
// communities and local preference that follow it are not.
bool extended_gateway(const uint8_t *p, uint32_t len, SflowSample &s) {
    uint32_t at = 0;
    if (!next_hop(p, len, s, at) || at + 16 > len) return false;
    s.as = be32(p + at);
    s.src_as = be32(p + at + 4);
    s.src_peer_as = be32(p + at + 8);
    const uint32_t segments = be32(p + at + 12);
    at += 16;
    for (uint32_t i = 0; i < kMaxAsPathSegments; ++i) {
        if (i >= segments) break;
        if (at + 8 > len) return false;
        const uint32_t count = be32(p + at + 4);
        if (count > (len - at - 8) / 4) return false;
        if (count > 0) {
            if (i == 0) s.dst_peer_as = be32(p + at + 8);
            s.dst_as = be32(p + at + 8 + 4 * (count - 1));
        }
        at += 8 + 4 * count;
    }
    s.flags |= wire::kSflowHasGateway;
    return true;
}

bool generic_interface(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < kGenericInterfaceBytes) return false;
    wire::SflowIfCounters &c = s.ifc;
    c.index = be32(p);
    c.type = be32(p + 4);
    c.speed = be64(p + 8);
    c.direction = be32(p + 16);
    c.status = be32(p + 20);
    c.in_octets = be64(p + 24);
    c.in_ucast = be32(p + 32);
    c.in_multicast = be32(p + 36);
    c.in_broadcast = be32(p + 40);
    c.in_discards = be32(p + 44);
    c.in_errors = be32(p + 48);
    c.in_unknown_protos = be32(p + 52);
    c.out_octets = be64(p + 56);
    c.out_ucast = be32(p + 64);
    c.out_multicast = be32(p + 68);
    c.out_broadcast = be32(p + 72);
    c.out_discards = be32(p + 76);
    c.out_errors = be32(p + 80);
    c.promiscuous = be32(p + 84);
    s.flags |= wire::kSflowHasGeneric;
    return true;
}

bool ethernet_interface(const uint8_t *p, uint32_t len, SflowSample &s) {
    if (len < kEthernetInterfaceBytes) return false;
    for (uint32_t i = 0; i < wire::kSflowEthCounters; ++i) s.eth[i] = be32(p + 4 * i);
    s.flags |= wire::kSflowHasEthCounters;
    return true;
}

// One record; false when it is shorter than its format (counted, skipped).
bool decode_record(bool flow, uint32_t format, const uint8_t *p, uint32_t len, SflowSample &s,
                   SflowParseCounters &ctr) {
    if (format >> 12 != 0) {  // another enterprise's record
        ctr.records_unknown++;
        return true;
    }
    if (flow) {
        switch (format) {
            case kRecordSampledHeader:
                return sampled_header(p, len, s, ctr);
            case kRecordSampledEthernet:
                return sampled_ethernet(p, len, s);
            case kRecordSampledIpv4:
                return sampled_ip(p, len, false, s);
            case kRecordSampledIpv6:
                return sampled_ip(p, len, true, s);
            case kRecordExtendedSwitch:
                return extended_switch(p, len, s);
            case kRecordExtendedRouter:
                return extended_router(p, len, s);
            case kRecordExtendedGateway:
                return extended_gateway(p, len, s);
            default:
                break;
        }
    } else {
        switch (format) {
            case kRecordGenericInterface:
                return generic_interface(p, len, s);
            case kRecordEthernetInterface:
                return ethernet_interface(p, len, s);
            default:
                break;
        }
    }
    ctr.records_unknown++;
    return true;
}

// The fixed fields before a sample's records, by format: their length, 0 for an unknown format.
uint32_t sample_fixed_bytes(uint32_t format) {
    switch (format) {
        case kFlowSample:
            return 32;
        case kCounterSample:
            return 12;
        case kFlowSampleExpanded:
            return 44;
        case kCounterSampleExpanded:
            return 16;
        default:
            return 0;
    }
}

void read_sample_fields(uint32_t format, const uint8_t *p, SflowSample &s) {
    s.sequence = be32(p);
    const bool expanded = format == kFlowSampleExpanded || format == kCounterSampleExpanded;
    uint32_t at = 4;
    if (expanded) {
        s.flags |= wire::kSflowExpanded;
        s.source_id_type = be32(p + 4);
        s.source_id_index = be32(p + 8);
        at = 12;
    } else {  // type in the top byte, index in the other three
        s.source_id_type = be32(p + 4) >> 24;
        s.source_id_index = be32(p + 4) & 0xffffffu;
        at = 8;
    }
    if (format == kCounterSample || format == kCounterSampleExpanded) return;
    s.sampling_rate = be32(p + at);
    s.sample_pool = be32(p + at + 4);
    s.drops = be32(p + at + 8);
    at += 12;
    if (expanded) {
        s.input_format = be32(p + at);
        s.input = be32(p + at + 4);
        s.output_format = be32(p + at + 8);
        s.output = be32(p + at + 12);
    } else {  // format in the top two bits, value in the other thirty
        s.input_format = be32(p + at) >> 30;
        s.input = be32(p + at) & 0x3fffffffu;
        s.output_format = be32(p + at + 4) >> 30;
        s.output = be32(p + at + 4) & 0x3fffffffu;
    }
}

// One sample's records. Returns kNone or kBadRecordLength.
SflowMalformed decode_records(bool flow, const uint8_t *p, uint32_t len, uint32_t fixed,
                              SflowSample &s, SflowParseCounters &ctr) {
    const uint32_t count = be32(p + fixed - 4);
    uint32_t at = fixed;
    for (uint32_t i = 0; i < wire::kMaxSflowRecordsPerSample; ++i) {
        if (i >= count) break;
        if (at + kRecordHeaderBytes > len) return SflowMalformed::kBadRecordLength;
        const uint32_t format = be32(p + at);
        const uint32_t rlen = be32(p + at + 4);
        if (rlen > len - at - kRecordHeaderBytes) return SflowMalformed::kBadRecordLength;
        ctr.records++;
        if (!decode_record(flow, format, p + at + kRecordHeaderBytes, rlen, s, ctr))
            ctr.records_short++;
        at += kRecordHeaderBytes + rlen;
    }
    if (count > wire::kMaxSflowRecordsPerSample)
        ctr.records_over_limit += count - wire::kMaxSflowRecordsPerSample;
    return SflowMalformed::kNone;
}

}  // namespace

uint32_t sflow_decode_datagram(const uint8_t *b, uint32_t len, const SflowSample &base,
                               SflowSample *out, uint32_t capacity, SflowMalformed *why,
                               uint32_t *lost, SflowParseCounters &ctr) {
    *lost = 0;
    uint32_t written = 0;
    if (len < 8) {
        *why = SflowMalformed::kTruncatedHeader;
        return 0;
    }
    if (be32(b) != 5) {
        *why = SflowMalformed::kBadVersion;
        return 0;
    }
    SflowSample head = base;
    bool agent_ipv6 = false;
    const uint32_t agent = read_address(b + 4, len - 4, head.agent, agent_ipv6);
    if (agent == 0) {
        const uint32_t type = be32(b + 4);
        *why = type == kAgentIpv4 || type == kAgentIpv6 ? SflowMalformed::kTruncatedHeader
                                                        : SflowMalformed::kBadAgentType;
        return 0;
    }
    const uint32_t header = 4 + agent + 16;
    if (len < header) {
        *why = SflowMalformed::kTruncatedHeader;
        return 0;
    }
    if (agent_ipv6) head.flags |= wire::kSflowAgentIpv6;
    head.sub_agent_id = be32(b + 4 + agent);
    head.datagram_sequence = be32(b + 8 + agent);
    head.uptime_ms = be32(b + 12 + agent);
    const uint32_t samples = be32(b + 16 + agent);
    *why = SflowMalformed::kNone;
    uint32_t at = header;
    for (uint32_t i = 0; i < wire::kMaxSflowSamplesPerDatagram; ++i) {
        if (i >= samples) break;
        if (at == len) {
            *why = SflowMalformed::kMissingSamples;
            return written;
        }
        if (at + kSampleHeaderBytes > len) {
            *why = SflowMalformed::kBadSampleLength;
            return written;
        }
        const uint32_t format = be32(b + at);
        const uint32_t slen = be32(b + at + 4);
        if (slen > len - at - kSampleHeaderBytes) {
            *why = SflowMalformed::kBadSampleLength;
            return written;
        }
        const uint8_t *body = b + at + kSampleHeaderBytes;
        at += kSampleHeaderBytes + slen;
        const uint32_t fixed = format >> 12 == 0 ? sample_fixed_bytes(format) : 0;
        if (fixed == 0) {
            ctr.samples_unknown++;
            continue;
        }
        if (slen < fixed) {
            *why = SflowMalformed::kBadSampleHeader;
            return written;
        }
        SflowSample s = head;
        const bool flow = format == kFlowSample || format == kFlowSampleExpanded;
        s.item = static_cast<uint8_t>(flow ? wire::SflowItem::kFlowSample
                                           : wire::SflowItem::kCounterSample);
        read_sample_fields(format, body, s);
        *why = decode_records(flow, body, slen, fixed, s, ctr);
        if (*why != SflowMalformed::kNone) return written;
        if (flow)
            ctr.flow_samples++;
        else
            ctr.counter_samples++;
        if (written < capacity) {
            out[written++] = s;
        } else {
            ++*lost;
            ctr.items_output_full++;
        }
    }
    if (samples > wire::kMaxSflowSamplesPerDatagram)
        ctr.samples_over_limit += samples - wire::kMaxSflowSamplesPerDatagram;
    return written;
}

uint32_t sflow_parse(const beat_t *ingest, beat_t *items, uint32_t out_capacity,
                     SflowParseCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = items offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
#pragma HLS INTERFACE s_axilite port = out_capacity
#pragma HLS INTERFACE s_axilite port = return
    uint8_t bytes[kMaxPayloadBufferBytes];  // one URAM buffer in hardware
#pragma HLS BIND_STORAGE variable = bytes type = ram_2p impl = uram
    SflowSample samples[wire::kMaxSflowSamplesPerDatagram];
    SflowParseCounters ctr = *counters;
    BatchHeader batch;
    if (!read_batch_header(ingest, batch)) {
        ctr.bad_batches++;
        *counters = ctr;
        return 0;
    }
    const uint32_t records = batch.record_count < wire::kMaxRecordsPerBatch
                                 ? batch.record_count
                                 : wire::kMaxRecordsPerBatch;
    uint32_t written = 0;
    uint32_t beat = 1;
    for (uint32_t r = 0; r < wire::kMaxRecordsPerBatch; ++r) {
        if (r >= records || beat >= batch.total_beats) break;
        RecordHeader rec;
        read_record_header(ingest[beat], rec);
        if (beat + 1 + wire::payload_beats(rec.payload_len) > batch.total_beats) break;
        ctr.beats_in += 1 + copy_payload(ingest + beat + 1, rec.payload_len, bytes);
        beat += 1 + wire::payload_beats(rec.payload_len);
        SflowSample base{};
        base.record_index = r;
        // Room for this datagram's samples besides the closing items the batch still owes.
        const uint32_t owed = records - r;
        const uint32_t spare = out_capacity > written + owed ? out_capacity - written - owed : 0;
        const uint32_t room =
            spare < wire::kMaxSflowSamplesPerDatagram ? spare : wire::kMaxSflowSamplesPerDatagram;
        SflowMalformed why = SflowMalformed::kBadVersion;
        uint32_t lost = 0;
        uint32_t n = 0;
        if (rec.kind == static_cast<uint8_t>(wire::RecordKind::kSflowV5))
            n = sflow_decode_datagram(bytes, rec.payload_len, base, samples, room, &why, &lost,
                                      ctr);
        for (uint32_t i = 0; i < wire::kMaxSflowSamplesPerDatagram; ++i) {
            if (i >= n) break;
            write_beats(samples[i], items + (written + i) * wire::kSflowItemBeats);
        }
        written += n;
        SflowSample done = base;
        done.item = static_cast<uint8_t>(wire::SflowItem::kDatagramDone);
        done.items_lost = lost;
        if (why != SflowMalformed::kNone) {
            done.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
            done.malformed_reason = static_cast<uint8_t>(why);
            ctr.malformed[static_cast<uint32_t>(why)]++;
        }
        ctr.datagrams++;
        if (written < out_capacity) {
            write_beats(done, items + written * wire::kSflowItemBeats);
            written++;
        }
    }
    ctr.items += written;
    *counters = ctr;
    return written;
}

}  // namespace tapsift::hls_kernels
