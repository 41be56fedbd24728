#include "flow/aggregate_event.hpp"

#include <fmt/format.h>

#include "event/ecs_version.hpp"
#include "event/flow_event.hpp"
#include "event/format.hpp"
#include "event/json_writer.hpp"
#include "event/network_event_head.hpp"

namespace tapsift::flow {
namespace {

const char *flush_name(AggregateFlush why) {
    switch (why) {
        case AggregateFlush::kWindowClosed:
            return "window_closed";
        case AggregateFlush::kTableFull:
            return "table_full";
        case AggregateFlush::kShutdown:
            return "shutdown";
    }
    return "?";
}

bool has(uint32_t fields, AggregateField f) {
    return fields & field_bit(f);
}

// ECS keeps interface ids as keywords.
void write_interface(event::JsonWriter &w, const char *side, uint32_t id) {
    w.key(side);
    w.begin_object();
    w.key("interface");
    w.begin_object();
    w.key("id");
    char text[12];
    const auto end = fmt::format_to_n(text, sizeof text, "{}", id);
    w.string(std::string_view(text, end.size));
    w.end_object();
    w.end_object();
}

// source/destination: the prefix (ip: its first address, address: CIDR text), port, AS.
void write_endpoint(event::JsonWriter &w, const char *side, bool prefix, const uint8_t addr[16],
                    uint8_t prefix_length, bool port, uint16_t port_value, bool as,
                    uint32_t as_number) {
    if (!prefix && !port && !as) return;
    w.key(side);
    w.begin_object();
    if (prefix) {
        const event::ShortText ip = event::address_text(addr);
        w.key("ip");
        w.string(ip.view());
        w.key("address");
        char cidr[64];
        const auto end = fmt::format_to_n(cidr, sizeof cidr, "{}/{}", ip.view(), prefix_length);
        w.string(std::string_view(cidr, end.size));
    }
    if (port) {
        w.key("port");
        w.number(port_value);
    }
    if (as) {
        w.key("as");
        w.begin_object();
        w.key("number");
        w.unsigned_number(as_number);
        w.end_object();
    }
    w.end_object();
}

}  // namespace

void assemble_aggregate_event(const AggregateKey &k, uint32_t fields, int64_t window_ns,
                              const AggregateTotals &totals, AggregateFlush why,
                              const std::string &created, std::string &out) {
    out.clear();
    event::JsonWriter w(out);
    w.begin_object();
    w.key("@timestamp");
    w.string(event::timestamp_text(k.window_start_ns).view());
    event::write_ecs_version(w);

    w.key("event");
    w.begin_object();
    event::write_network_event_head(w, "metric", "info", "netflow_aggregate", "netflow.aggregate");
    w.key("created");
    w.string(created);
    w.key("start");
    w.string(event::timestamp_text(k.window_start_ns).view());
    w.key("end");
    w.string(event::timestamp_text(k.window_start_ns + window_ns).view());
    w.key("duration");
    w.number(window_ns);
    w.end_object();

    const bool in_if = has(fields, AggregateField::kInInterface);
    const bool out_if = has(fields, AggregateField::kOutInterface);
    if (has(fields, AggregateField::kExporter) || in_if || out_if) {
        w.key("observer");
        w.begin_object();
        if (has(fields, AggregateField::kExporter)) {
            w.key("ip");
            w.string(event::address_text(k.exporter).view());
        }
        if (in_if) write_interface(w, "ingress", k.in_interface);
        if (out_if) write_interface(w, "egress", k.out_interface);
        w.end_object();
    }
    write_endpoint(w, "source", has(fields, AggregateField::kSrcPrefix), k.src, k.src_prefix_length,
                   has(fields, AggregateField::kSrcPort), k.src_port,
                   has(fields, AggregateField::kSrcAs), k.src_as);
    write_endpoint(w, "destination", has(fields, AggregateField::kDstPrefix), k.dst,
                   k.dst_prefix_length, has(fields, AggregateField::kDstPort), k.dst_port,
                   has(fields, AggregateField::kDstAs), k.dst_as);

    w.key("network");
    w.begin_object();
    if (has(fields, AggregateField::kProtocol)) {
        event::write_protocol(w, k.protocol);
    }
    if (has(fields, AggregateField::kDirection)) {
        w.key("direction");
        w.string(event::direction_name(k.direction));
    }
    w.key("bytes");
    w.unsigned_number(totals.bytes);
    w.key("packets");
    w.unsigned_number(totals.packets);
    w.end_object();

    const bool domain = has(fields, AggregateField::kObservationDomain);
    const bool tos = has(fields, AggregateField::kTos);
    if (domain || tos) {
        w.key("netflow");
        w.begin_object();
        if (domain) {
            w.key("exporter");
            w.begin_object();
            w.key("source_id");
            w.unsigned_number(k.observation_domain);
            w.end_object();
        }
        if (tos) {
            w.key("ip_class_of_service");
            w.unsigned_number(k.tos);
        }
        w.end_object();
    }

    w.key("tapsift");
    w.begin_object();
    w.key("format");
    w.string("aggregate");
    w.key("aggregate");
    w.begin_object();
    w.key("records");
    w.unsigned_number(totals.records);
    w.key("flushed");
    w.string(flush_name(why));
    w.key("key");
    w.begin_array();
    for (uint32_t f = 0; f < static_cast<uint32_t>(AggregateField::kCount); ++f) {
        if (fields & (1u << f)) w.string(kAggregateFieldNames[f]);
    }
    w.end_array();
    w.end_object();
    w.end_object();
    w.end_object();
}

}  // namespace tapsift::flow
