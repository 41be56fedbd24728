#include "sflow_event.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "ecs_version.hpp"
#include "network_event_head.hpp"
#include "format.hpp"
#include "json_writer.hpp"

namespace tapsift::event {
namespace {

using wire::SflowSample;

// dot3Stats names (RFC 3635), in the order of sFlow's Ethernet interface counters.
constexpr std::string_view kEthCounterNames[wire::kSflowEthCounters] = {
    "alignment_errors",
    "fcs_errors",
    "single_collision_frames",
    "multiple_collision_frames",
    "sqe_test_errors",
    "deferred_transmissions",
    "late_collisions",
    "excessive_collisions",
    "internal_mac_transmit_errors",
    "carrier_sense_errors",
    "frame_too_longs",
    "internal_mac_receive_errors",
    "symbol_errors"};

bool has(const SflowSample &s, uint32_t flag) {
    return (s.flags & flag) != 0;
}

void write_interface(JsonWriter &w, uint32_t format, uint32_t value) {
    w.begin_object();
    w.key("format");
    w.unsigned_number(format);
    w.key("value");
    w.unsigned_number(value);
    w.end_object();
}

void write_endpoint(JsonWriter &w, const SflowSample &s, bool source, uint64_t bytes,
                    uint64_t packets) {
    w.begin_object();
    if (has(s, wire::kSflowHasIp)) {
        w.key("ip");
        w.plain_string(address_text(source ? s.src_addr : s.dst_addr).view());
    }
    if (has(s, wire::kSflowHasPorts)) {
        w.key("port");
        w.number(source ? s.src_port : s.dst_port);
    }
    if (has(s, wire::kSflowHasEthernet)) {
        w.key("mac");
        w.plain_string(mac_text(source ? s.src_mac : s.dst_mac).view());
    }
    if (source) {
        w.key("bytes");
        w.unsigned_number(bytes);
        w.key("packets");
        w.unsigned_number(packets);
    }
    w.end_object();
}

void write_flow_fields(JsonWriter &w, const SflowSample &s, const SamplingRate &rate) {
    w.key("sampling");
    w.begin_object();
    w.key("rate");
    w.unsigned_number(rate.interval);
    w.key("source");
    w.string(rate.overridden ? "config" : "exporter");
    w.key("scaled");
    w.boolean(rate.scale > 1);
    w.key("pool");
    w.unsigned_number(s.sample_pool);
    w.key("drops");
    w.unsigned_number(s.drops);
    w.end_object();
    w.key("input");
    write_interface(w, s.input_format, s.input);
    w.key("output");
    write_interface(w, s.output_format, s.output);
    w.key("frame_length");
    w.unsigned_number(s.frame_length);
    if (has(s, wire::kSflowHasHeader)) {
        w.key("stripped");
        w.unsigned_number(s.stripped);
        w.key("header_protocol");
        w.unsigned_number(s.header_protocol);
    }
    if (has(s, wire::kSflowHasEthernet)) {
        w.key("ether_type");
        w.unsigned_number(s.ether_type);
    }
    if (has(s, wire::kSflowHasIp)) {
        w.key("ip");
        w.begin_object();
        w.key("tos");
        w.unsigned_number(s.tos);
        if (has(s, wire::kSflowHasHeader)) {  // sampled_ipv4/ipv6 records carry no TTL
            w.key("ttl");
            w.unsigned_number(s.ttl);
        }
        w.end_object();
        if (s.protocol == 6) {
            w.key("tcp_flags");
            w.unsigned_number(s.tcp_flags);
        }
    }
    if (has(s, wire::kSflowHasIcmp)) {
        w.key("icmp");
        w.begin_object();
        w.key("type");
        w.unsigned_number(s.icmp_type);
        w.key("code");
        w.unsigned_number(s.icmp_code);
        w.end_object();
    }
    if (has(s, wire::kSflowHasSwitch)) {
        w.key("switch");
        w.begin_object();
        w.key("src_vlan");
        w.unsigned_number(s.src_vlan);
        w.key("src_priority");
        w.unsigned_number(s.src_priority);
        w.key("dst_vlan");
        w.unsigned_number(s.dst_vlan);
        w.key("dst_priority");
        w.unsigned_number(s.dst_priority);
        w.end_object();
    }
    if (has(s, wire::kSflowHasRouter) || has(s, wire::kSflowHasGateway)) {
        w.key("next_hop");
        w.plain_string(address_text(s.next_hop).view());
    }
    if (has(s, wire::kSflowHasRouter)) {
        w.key("router");
        w.begin_object();
        w.key("src_mask_len");
        w.unsigned_number(s.src_mask);
        w.key("dst_mask_len");
        w.unsigned_number(s.dst_mask);
        w.end_object();
    }
    if (has(s, wire::kSflowHasGateway)) {
        w.key("gateway");
        w.begin_object();
        w.key("as");
        w.unsigned_number(s.as);
        w.key("src_as");
        w.unsigned_number(s.src_as);
        w.key("src_peer_as");
        w.unsigned_number(s.src_peer_as);
        w.key("dst_as");
        w.unsigned_number(s.dst_as);
        w.key("dst_peer_as");
        w.unsigned_number(s.dst_peer_as);
        w.end_object();
    }
}

void write_counter_fields(JsonWriter &w, const SflowSample &s) {
    if (has(s, wire::kSflowHasGeneric)) {
        const wire::SflowIfCounters &c = s.ifc;
        w.key("interface");
        w.begin_object();
        const std::pair<std::string_view, uint64_t> values[] = {
            {"index", c.index},
            {"type", c.type},
            {"speed", c.speed},
            {"direction", c.direction},
            {"status", c.status},
            {"in_octets", c.in_octets},
            {"in_ucast_pkts", c.in_ucast},
            {"in_multicast_pkts", c.in_multicast},
            {"in_broadcast_pkts", c.in_broadcast},
            {"in_discards", c.in_discards},
            {"in_errors", c.in_errors},
            {"in_unknown_protos", c.in_unknown_protos},
            {"out_octets", c.out_octets},
            {"out_ucast_pkts", c.out_ucast},
            {"out_multicast_pkts", c.out_multicast},
            {"out_broadcast_pkts", c.out_broadcast},
            {"out_discards", c.out_discards},
            {"out_errors", c.out_errors},
            {"promiscuous_mode", c.promiscuous}};
        for (const auto &[name, value] : values) {
            w.plain_key(name);
            w.unsigned_number(value);
        }
        w.end_object();
    }
    if (has(s, wire::kSflowHasEthCounters)) {
        w.key("ethernet");
        w.begin_object();
        for (uint32_t i = 0; i < wire::kSflowEthCounters; ++i) {
            w.plain_key(kEthCounterNames[i]);
            w.unsigned_number(s.eth[i]);
        }
        w.end_object();
    }
}

}  // namespace

const char *sflow_malformed_name(wire::SflowMalformed why) {
    switch (why) {
        case wire::SflowMalformed::kNone:
            return "none";
        case wire::SflowMalformed::kTruncatedHeader:
            return "truncated_header";
        case wire::SflowMalformed::kBadVersion:
            return "bad_version";
        case wire::SflowMalformed::kBadAgentType:
            return "bad_agent_type";
        case wire::SflowMalformed::kBadSampleLength:
            return "bad_sample_length";
        case wire::SflowMalformed::kBadRecordLength:
            return "bad_record_length";
        case wire::SflowMalformed::kBadSampleHeader:
            return "bad_sample_header";
        case wire::SflowMalformed::kMissingSamples:
            return "missing_samples";
        case wire::SflowMalformed::kCount:
            break;
    }
    return "unknown";
}

AssembledSflowEvent assemble_sflow_event(const SflowSampleView &v, std::string_view exporter_ip,
                                         const FlowEventContext &ctx, std::string &out) {
    const SflowSample &s = v.sample;
    const bool flow = s.item == static_cast<uint8_t>(wire::SflowItem::kFlowSample);
    const ShortText agent = address_text(s.agent);
    const SamplingRate rate = sampling_rate(s.sampling_rate, !flow, agent.view(), ctx);
    out.clear();
    JsonWriter w(out);
    w.begin_object();
    w.key("@timestamp");  // sFlow datagrams carry no clock time: the arrival time
    w.plain_string(timestamp_text(static_cast<int64_t>(v.datagram.arrival_ns)).view());
    write_ecs_version(w);

    w.key("event");
    w.begin_object();
    write_network_event_head(w,
                             v.annotations && !v.annotations->threats.empty() ? "alert" : "event",
                             flow ? "connection" : "info",
                             flow ? "sflow_flow_sample" : "sflow_counter_sample", "sflow.log");
    w.key("created");
    w.string(ctx.created);
    w.key("sequence");
    w.number(static_cast<int64_t>(v.datagram.packet_seq));
    w.end_object();

    w.key("observer");
    w.begin_object();
    w.key("ip");
    w.plain_string(agent.view());
    w.end_object();

    const uint64_t bytes = uint64_t{s.frame_length} * rate.scale;
    if (flow) {
        w.key("source");
        write_endpoint(w, s, true, bytes, rate.scale);
        w.key("destination");
        write_endpoint(w, s, false, 0, 0);
        w.key("network");
        w.begin_object();
        if (has(s, wire::kSflowHasIp)) {
            write_protocol(w, s.protocol);
            w.key("type");
            w.string(has(s, wire::kSflowIpv6) ? "ipv6" : "ipv4");
        }
        w.key("bytes");
        w.unsigned_number(bytes);
        w.key("packets");
        w.unsigned_number(rate.scale);
        if (has(s, wire::kSflowHasVlan)) {
            w.key("vlan");
            w.begin_object();
            w.key("id");
            const fmt::format_int id(s.vlan);
            w.plain_string(std::string_view(id.data(), id.size()));
            w.end_object();
        }
        w.end_object();
    }

    w.key("sflow");
    w.begin_object();
    w.key("agent");
    w.begin_object();
    w.key("address");
    w.plain_string(agent.view());
    w.key("sub_agent_id");
    w.unsigned_number(s.sub_agent_id);
    w.end_object();
    w.key("exporter");
    w.begin_object();
    w.key("address");
    char address[64];
    const auto end =
        exporter_ip.find(':') == std::string_view::npos
            ? fmt::format_to_n(address, sizeof address, "{}:{}", exporter_ip, v.datagram.src_port)
            : fmt::format_to_n(address, sizeof address, "[{}]:{}", exporter_ip,
                               v.datagram.src_port);
    w.string(std::string_view(address, std::min(end.size, sizeof address)));
    w.end_object();
    w.key("sequence_number");
    w.unsigned_number(s.datagram_sequence);
    w.key("uptime_millis");
    w.unsigned_number(s.uptime_ms);
    w.key("sample");
    w.begin_object();
    w.key("type");
    w.string(flow ? "flow" : "counter");
    w.key("expanded");
    w.boolean(has(s, wire::kSflowExpanded));
    w.key("sequence_number");
    w.unsigned_number(s.sequence);
    w.key("source_id");
    w.begin_object();
    w.key("type");
    w.unsigned_number(s.source_id_type);
    w.key("index");
    w.unsigned_number(s.source_id_index);
    w.end_object();
    w.end_object();
    if (flow)
        write_flow_fields(w, s, rate);
    else
        write_counter_fields(w, s);
    w.end_object();
    if (v.annotations) write_tags_and_threats(w, *v.annotations);

    w.key("tapsift");
    w.begin_object();
    if (v.annotations && !v.annotations->rule.empty()) {
        w.key("rule");
        w.string(v.annotations->rule);
    }
    w.key("format");
    w.string("sflow_v5");
    w.key("sflow_sample");
    w.number(v.sample_in_datagram);
    if (has(s, wire::kSflowHeaderCut)) {
        w.key("notes");
        w.string("sampled_header_cut");
    }
    w.end_object();
    w.end_object();
    return {rate.overridden};
}

}  // namespace tapsift::event
