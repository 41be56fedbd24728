// Kernel style: no heap, bounded loops; one set of kTemplateWays slots is read per lookup.
#include "template_store.hpp"

#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {

using wire::FlowParseState;
using wire::FlowTemplate;

uint32_t template_set(const uint8_t exporter[16], uint32_t domain, uint16_t template_id) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        h = (h ^ exporter[i]) * 16777619u;
    }
    for (uint32_t i = 0; i < 4; ++i) h = (h ^ ((domain >> (8 * i)) & 0xff)) * 16777619u;
    h = (h ^ (template_id & 0xff)) * 16777619u;
    h = (h ^ (template_id >> 8)) * 16777619u;
    return h % wire::kTemplateSets;
}

namespace {

bool same_key(const FlowTemplate &t, const uint8_t exporter[16], uint32_t domain,
              uint16_t template_id) {
    if (!t.in_use || t.domain != domain || t.template_id != template_id) return false;
    for (uint32_t i = 0; i < 16; ++i) {
#pragma HLS UNROLL
        if (t.exporter[i] != exporter[i]) return false;
    }
    return true;
}

bool same_definition(const FlowTemplate &a, const FlowTemplate &b) {
    if (a.field_count != b.field_count || a.scope_field_count != b.scope_field_count ||
        a.options != b.options)
        return false;
    for (uint32_t i = 0; i < wire::kMaxTemplateFields; ++i) {
        if (i >= a.field_count) break;
        if (a.fields[i].ie != b.fields[i].ie || a.fields[i].length != b.fields[i].length ||
            a.fields[i].pen != b.fields[i].pen)
            return false;
    }
    return true;
}

}  // namespace

int32_t template_find(const FlowParseState &state, const uint8_t exporter[16], uint32_t domain,
                      uint16_t template_id) {
    const uint32_t base = template_set(exporter, domain, template_id) * wire::kTemplateWays;
    for (uint32_t w = 0; w < wire::kTemplateWays; ++w) {
        if (same_key(state.templates[base + w], exporter, domain, template_id))
            return static_cast<int32_t>(base + w);
    }
    return -1;
}

TemplatePlace template_place(const FlowParseState &state, const FlowTemplate &t) {
    const uint32_t base = template_set(t.exporter, t.domain, t.template_id) * wire::kTemplateWays;
    uint32_t free_way = wire::kTemplateWays;
    uint32_t oldest_way = 0;
    for (uint32_t w = 0; w < wire::kTemplateWays; ++w) {
        const FlowTemplate &have = state.templates[base + w];
        if (same_key(have, t.exporter, t.domain, t.template_id)) {
            // A refresh keeps the generation: records stay named.
            return {base + w,
                    same_definition(have, t) ? StoreOutcome::kRefreshed : StoreOutcome::kReplaced};
        }
        if (!have.in_use && free_way == wire::kTemplateWays) free_way = w;
        const int64_t have_age =
            have.used_ns > have.refreshed_ns ? have.used_ns : have.refreshed_ns;
        const FlowTemplate &old = state.templates[base + oldest_way];
        const int64_t old_age = old.used_ns > old.refreshed_ns ? old.used_ns : old.refreshed_ns;
        if (have_age < old_age) oldest_way = w;
    }
    const bool evict = free_way == wire::kTemplateWays;
    return {base + (evict ? oldest_way : free_way),
            evict ? StoreOutcome::kEvicted : StoreOutcome::kLearned};
}

void template_commit(FlowParseState &state, const TemplatePlace &place, const FlowTemplate &t) {
    FlowTemplate &dst = state.templates[place.slot];
    if (place.outcome == StoreOutcome::kRefreshed) {
        dst.refreshed_ns = t.refreshed_ns;
        return;
    }
    dst = t;
    dst.in_use = 1;
    dst.generation = ++state.next_generation;
}

StoreOutcome template_store(FlowParseState &state, const FlowTemplate &t, uint32_t *slot) {
    const TemplatePlace place = template_place(state, t);
    template_commit(state, place, t);
    *slot = place.slot;
    return place.outcome;
}

uint32_t exporter_slot(const uint8_t exporter[16], uint32_t domain) {
    uint32_t h = 2166136261u ^ domain;
    for (uint32_t i = 0; i < 16; ++i) h = (h ^ exporter[i]) * 16777619u;
    return h % wire::kExporterSlots;
}

// Which core field an IANA IE fills, or kCoreFieldCount.
wire::CoreField core_of(uint32_t ie) {
    switch (ie) {
        case 8:
            return wire::kCoreSrcIpv4;
        case 12:
            return wire::kCoreDstIpv4;
        case 27:
            return wire::kCoreSrcIpv6;
        case 28:
            return wire::kCoreDstIpv6;
        case 7:
            return wire::kCoreSrcPort;
        case 11:
            return wire::kCoreDstPort;
        case 4:
            return wire::kCoreProtocol;
        case 5:
            return wire::kCoreTos;
        case 6:
            return wire::kCoreTcpFlags;
        case 61:
            return wire::kCoreDirection;
        case 1:
            return wire::kCoreBytes;
        case 2:
            return wire::kCorePackets;
        case 85:
            return wire::kCoreBytesTotal;
        case 86:
            return wire::kCorePacketsTotal;
        case 22:
            return wire::kCoreStartUptime;
        case 21:
            return wire::kCoreEndUptime;
        case 150:
            return wire::kCoreStartSeconds;
        case 151:
            return wire::kCoreEndSeconds;
        case 152:
            return wire::kCoreStartMilliseconds;
        case 153:
            return wire::kCoreEndMilliseconds;
        case 154:
            return wire::kCoreStartMicroseconds;
        case 155:
            return wire::kCoreEndMicroseconds;
        case 156:
            return wire::kCoreStartNanoseconds;
        case 157:
            return wire::kCoreEndNanoseconds;
        case 34:
        case 50:  // NetFlow v9 FLOW_SAMPLER_RANDOM_INTERVAL
            return wire::kCoreSamplingInterval;
        case 35:
        case 49:  // NetFlow v9 FLOW_SAMPLER_MODE
            return wire::kCoreSamplingAlgorithm;
        case 305:
            return wire::kCorePacketInterval;
        case 306:
            return wire::kCorePacketSpace;
        case 309:
            return wire::kCoreSamplingSize;
        case 310:
            return wire::kCoreSamplingPopulation;
        case 160:
            return wire::kCoreSystemInit;
        default:
            return wire::kCoreFieldCount;
    }
}

// Finds the core fields' offsets and whether reverse fields are present (at store time).
void template_locate_core(FlowTemplate &t) {
    for (uint32_t k = 0; k < wire::kCoreFieldCount; ++k) t.core[k] = wire::CoreLocation{0, 0, 0};
    uint32_t at = 0;
    for (uint32_t i = 0; i < wire::kMaxTemplateFields; ++i) {
        if (i >= t.field_count) break;
        const wire::TemplateField &f = t.fields[i];
        if (f.pen == wire::kReversePen) t.reverse = 1;
        const wire::CoreField k = core_of(f.ie);
        if (f.pen == 0 && k != wire::kCoreFieldCount && f.length > 0 && f.length <= 16)
            t.core[k] =
                wire::CoreLocation{static_cast<uint16_t>(at), static_cast<uint8_t>(f.length), 0};
        at += f.length == wire::kVariableLength ? 0 : f.length;
    }
}

}  // namespace tapsift::hls_kernels
