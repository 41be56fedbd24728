#include "flow_event.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ecs_version.hpp"
#include "network_event_head.hpp"
#include "format.hpp"
#include "ipfix_ie.hpp"
#include "json_writer.hpp"
#include "record_fields.hpp"

namespace tapsift::event {
namespace {

constexpr int64_t kNsPerSecond = 1000000000;
constexpr int64_t kNtpToUnixSeconds = 2208988800;
constexpr uint64_t kMaxMilliseconds = INT64_MAX / 1000000;

void write_hex(JsonWriter &w, const uint8_t *p, uint32_t len) {
    static const char kHex[] = "0123456789abcdef";
    char small[2 * 64];  // most hex values are short: no allocation for them
    std::string large;
    char *hex = small;
    if (len > sizeof small / 2) {
        large.resize(2 * size_t{len});
        hex = large.data();
    }
    for (uint32_t i = 0; i < len; ++i) {
        hex[2 * i] = kHex[p[i] >> 4];
        hex[2 * i + 1] = kHex[p[i] & 15];
    }
    w.plain_string(std::string_view(hex, 2 * size_t{len}));
}

int64_t ntp_to_ns(uint64_t v, bool microseconds) {
    uint64_t frac = v & 0xffffffffu;
    if (microseconds) frac &= ~uint64_t{0x7ff};  // RFC 7011 §6.1.9
    return (static_cast<int64_t>(v >> 32) - kNtpToUnixSeconds) * kNsPerSecond +
           static_cast<int64_t>((frac * kNsPerSecond) >> 32);
}

// One value as its IANA type says. A length the type cannot have is shown as hex, and the
// function returns false.
bool write_value(JsonWriter &w, IeType type, const uint8_t *p, uint32_t len) {
    const bool fits_u64 = len >= 1 && len <= 8;
    switch (type) {
        case IeType::kUnsigned:
            if (!fits_u64) break;
            w.unsigned_number(read_be(p, len));
            return true;
        case IeType::kSigned: {
            if (!fits_u64) break;
            const uint32_t shift = 64 - 8 * len;  // sign-extend from len bytes
            w.number(static_cast<int64_t>(read_be(p, len) << shift) >> shift);
            return true;
        }
        case IeType::kFloat:
            if (len == 4) {
                const uint32_t bits = static_cast<uint32_t>(read_be(p, 4));
                float f;
                std::memcpy(&f, &bits, sizeof f);
                w.real(f);
                return true;
            }
            if (len == 8) {
                const uint64_t bits = read_be(p, 8);
                double d;
                std::memcpy(&d, &bits, sizeof d);
                w.real(d);
                return true;
            }
            break;
        case IeType::kBoolean:  // RFC 7011 §6.1.5: 1 is true, 2 is false
            if (len != 1 || (p[0] != 1 && p[0] != 2)) break;
            w.boolean(p[0] == 1);
            return true;
        case IeType::kMac:
            if (len != 6) break;
            w.plain_string(mac_text(p).view());
            return true;
        case IeType::kString:  // fixed-length strings are padded with NULs
            while (len > 0 && p[len - 1] == 0) --len;
            w.string(std::string_view(reinterpret_cast<const char *>(p), len));
            return true;
        case IeType::kIpv4: {
            if (len != 4) break;
            w.plain_string(ipv4_text(p).view());
            return true;
        }
        case IeType::kIpv6: {  // IPv6 text even when IPv4-mapped: the type says IPv6
            if (len != 16) break;
            char text[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, p, text, sizeof text);
            w.string(std::string_view(text));
            return true;
        }
        case IeType::kSeconds:
            if (len < 1 || len > 4) break;
            w.plain_string(
                timestamp_text(static_cast<int64_t>(read_be(p, len)) * kNsPerSecond).view());
            return true;
        case IeType::kMilliseconds:
            if (!fits_u64) break;
            if (read_be(p, len) > kMaxMilliseconds) {  // past 2262: as a number
                w.unsigned_number(read_be(p, len));
                return true;
            }
            w.plain_string(timestamp_text(static_cast<int64_t>(read_be(p, len)) * 1000000).view());
            return true;
        case IeType::kNtpMicroseconds:
        case IeType::kNtpNanoseconds:
            if (len != 8) break;
            w.string(
                timestamp_text(ntp_to_ns(read_be(p, 8), type == IeType::kNtpMicroseconds)).view());
            return true;
        case IeType::kOctets:
            break;
    }
    write_hex(w, p, len);
    return type == IeType::kOctets;
}

std::string_view v9_scope_name(uint16_t id) {
    switch (id) {  // RFC 3954 §6.1
        case 1:
            return "scope_system";
        case 2:
            return "scope_interface";
        case 3:
            return "scope_line_card";
        case 4:
            return "scope_cache";
        case 5:
            return "scope_template";
        default:
            return {};
    }
}

// How a field is named and shown: prefix + name (no allocation: this runs per field). An empty
// name: it goes under netflow.unknown.
struct FieldName {
    std::string_view prefix;
    std::string_view name;
    IeType type;
    bool skip;  // padding

    bool known() const { return !name.empty(); }
    void write_key(JsonWriter &w) const {
        char key[96];
        const size_t n = std::min(name.size(), sizeof key - prefix.size());
        std::memcpy(key, prefix.data(), prefix.size());
        std::memcpy(key + prefix.size(), name.data(), n);
        w.plain_key(std::string_view(key, prefix.size() + n));
    }
};

FieldName name_field(const wire::TemplateField &f) {
    if (f.pen == 0) {
        if (f.ie == wire::kIePadding) return {"", {}, IeType::kOctets, true};
        if (const IeInfo *ie = find_ie(f.ie)) return {"", ie->name, ie->type, false};
    } else if (f.pen == wire::kReversePen) {
        if (const IeInfo *ie = find_ie(f.ie)) return {"reverse_", ie->name, ie->type, false};
    } else if (f.pen == wire::kNetflowV9ScopePen) {
        const std::string_view scope = v9_scope_name(f.ie);
        if (!scope.empty()) return {"", scope, IeType::kUnsigned, false};
    }
    return {"", {}, IeType::kOctets, false};
}

bool same_ie(const wire::TemplateField &a, const wire::TemplateField &b) {
    return a.ie == b.ie && a.pen == b.pen;
}

// Whether some IE other than padding occurs more than once: rare, so the common case skips the
// pairwise search.
bool any_repeated_ie(const wire::TemplateField *fields, uint32_t n) {
    uint64_t ids[wire::kMaxTemplateFields];
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (fields[i].pen == 0 && fields[i].ie == wire::kIePadding) continue;
        ids[count++] = (uint64_t{fields[i].pen} << 16) | fields[i].ie;
    }
    std::sort(ids, ids + count);
    return std::adjacent_find(ids, ids + count) != ids + count;
}

// netflow.<name> for every named field (a repeated IE becomes an array), then
// netflow.unknown.<pen>_<id> as hex for the rest.
// Returns how many values had a length their type cannot have (shown as hex).
uint32_t write_template_fields(JsonWriter &w, const FlowRecordView &r) {
    uint32_t mismatches = 0;
    const uint8_t *rec = r.payload + r.item.record.off;
    FieldSpan spans[wire::kMaxTemplateFields];
    const uint32_t n = locate_fields(rec, r.item.record.len, r.fields, r.field_count, spans);
    const bool repeats_possible = any_repeated_ie(r.fields, n);
    bool any_unknown = false;
    for (uint32_t i = 0; i < n; ++i) {
        const FieldName name = name_field(r.fields[i]);
        if (name.skip) continue;
        if (!name.known()) {
            any_unknown = true;
            continue;
        }
        if (!repeats_possible) {
            name.write_key(w);
            mismatches += !write_value(w, name.type, rec + spans[i].off, spans[i].len);
            continue;
        }
        bool seen_before = false;
        uint32_t repeats = 0;
        for (uint32_t j = 0; j < n; ++j) {
            if (!same_ie(r.fields[i], r.fields[j])) continue;
            seen_before |= j < i;
            repeats++;
        }
        if (seen_before) continue;
        name.write_key(w);
        if (repeats > 1) w.begin_array();
        for (uint32_t j = i; j < n; ++j) {
            if (same_ie(r.fields[i], r.fields[j]))
                mismatches += !write_value(w, name.type, rec + spans[j].off, spans[j].len);
        }
        if (repeats > 1) w.end_array();
    }
    if (!any_unknown) return mismatches;
    w.key("unknown");
    w.begin_object();
    for (uint32_t i = 0; i < n; ++i) {
        const FieldName name = name_field(r.fields[i]);
        if (name.skip || name.known()) continue;
        const uint32_t pen = r.fields[i].pen == wire::kNetflowV9ScopePen ? 0 : r.fields[i].pen;
        // A repeated unknown IE gets its position as a suffix, to keep keys unique.
        bool repeated = false;
        for (uint32_t j = 0; j < n; ++j) repeated |= j != i && same_ie(r.fields[i], r.fields[j]);
        w.key(repeated ? fmt::format("{}_{}_{}", pen, r.fields[i].ie, i)
                       : fmt::format("{}_{}", pen, r.fields[i].ie));
        write_hex(w, rec + spans[i].off, spans[i].len);
    }
    w.end_object();
    return mismatches;
}

const char *format_name(uint8_t kind) {
    switch (static_cast<wire::RecordKind>(kind)) {
        case wire::RecordKind::kNetflowV5:
            return "netflow_v5";
        case wire::RecordKind::kNetflowV9:
            return "netflow_v9";
        default:
            return "ipfix";
    }
}

uint32_t version_of(uint8_t kind) {
    switch (static_cast<wire::RecordKind>(kind)) {
        case wire::RecordKind::kNetflowV5:
            return 5;
        case wire::RecordKind::kNetflowV9:
            return 9;
        default:
            return 10;
    }
}

}  // namespace

const char *direction_name(uint8_t direction) {
    switch (direction) {  // IE 61 flowDirection
        case 0:
            return "inbound";
        case 1:
            return "outbound";
        default:
            return "unknown";
    }
}

const char *transport_name(uint8_t protocol) {
    switch (protocol) {
        case 1:
            return "icmp";
        case 2:
            return "igmp";
        case 6:
            return "tcp";
        case 17:
            return "udp";
        case 47:
            return "gre";
        case 50:
            return "esp";
        case 51:
            return "ah";
        case 58:
            return "ipv6-icmp";
        case 89:
            return "ospf";
        case 132:
            return "sctp";
        default:
            return nullptr;
    }
}

SamplingRate sampling_rate(uint32_t exporter_interval, bool options, std::string_view exporter_ip,
                           const FlowEventContext &ctx) {
    SamplingRate rate{exporter_interval, false, 1};
    if (ctx.sampling_overrides && !options) {
        const auto it = ctx.sampling_overrides->find(std::string(exporter_ip));
        if (it != ctx.sampling_overrides->end()) {
            rate.interval = it->second;
            rate.overridden = true;
        }
    }
    if (ctx.scale_sampled_counts && rate.interval > 1 && !options) rate.scale = rate.interval;
    return rate;
}

SamplingRate sampling_rate(const wire::FlowDescriptor &d, std::string_view exporter_ip,
                           const FlowEventContext &ctx) {
    return sampling_rate(d.sampling_interval, d.flags & wire::kFlowOptions, exporter_ip, ctx);
}

void write_protocol(JsonWriter &w, uint8_t protocol) {
    if (const char *transport = transport_name(protocol)) {
        w.key("transport");
        w.string(std::string_view(transport));
    }
    w.key("iana_number");
    const fmt::format_int number(protocol);
    w.plain_string(std::string_view(number.data(), number.size()));
}

AssembledFlowEvent assemble_flow_event(const FlowRecordView &r, std::string_view exporter_ip,
                                       const FlowEventContext &ctx, std::string &out) {
    const wire::FlowDescriptor &d = r.item;
    const bool options = d.flags & wire::kFlowOptions;
    const SamplingRate rate = sampling_rate(d, exporter_ip, ctx);
    AssembledFlowEvent result{false, rate.overridden, 0};
    const uint32_t sampling = rate.interval;
    const bool scaled = rate.scale > 1;
    const uint64_t scale = rate.scale;
    const int64_t export_ns =
        d.export_ns != 0 ? d.export_ns : static_cast<int64_t>(r.datagram.arrival_ns);

    out.clear();
    JsonWriter w(out);
    w.begin_object();
    w.key("@timestamp");
    w.plain_string(timestamp_text(export_ns).view());
    write_ecs_version(w);

    w.key("event");
    w.begin_object();
    write_network_event_head(w,
                             r.annotations && !r.annotations->threats.empty() ? "alert" : "event",
                             options ? "info" : "connection",
                             options ? "netflow_options" : "netflow_flow", "netflow.log");
    w.key("created");
    w.string(ctx.created);
    if (d.flags & wire::kFlowHasStart) {
        w.key("start");
        w.plain_string(timestamp_text(d.start_ns).view());
    }
    if (d.flags & wire::kFlowHasEnd) {
        w.key("end");
        w.plain_string(timestamp_text(d.end_ns).view());
    }
    if ((d.flags & wire::kFlowHasStart) && (d.flags & wire::kFlowHasEnd)) {
        w.key("duration");
        w.number(d.end_ns - d.start_ns);
    }
    w.key("sequence");
    w.number(static_cast<int64_t>(r.datagram.packet_seq));
    w.end_object();

    w.key("observer");
    w.begin_object();
    w.key("ip");
    w.string(exporter_ip);
    w.end_object();

    if (!options && (d.flags & wire::kFlowHasAddresses)) {
        w.key("source");
        w.begin_object();
        w.key("ip");
        w.plain_string(address_text(d.src_addr).view());
        w.key("port");
        w.number(d.src_port);
        w.key("bytes");
        w.unsigned_number(d.bytes * scale);
        w.key("packets");
        w.unsigned_number(d.packets * scale);
        w.end_object();
        w.key("destination");
        w.begin_object();
        w.key("ip");
        w.plain_string(address_text(d.dst_addr).view());
        w.key("port");
        w.number(d.dst_port);
        w.end_object();
    }
    if (!options) {
        w.key("network");
        w.begin_object();
        write_protocol(w, d.protocol);
        w.key("bytes");
        w.unsigned_number(d.bytes * scale);
        w.key("packets");
        w.unsigned_number(d.packets * scale);
        w.key("direction");
        w.string(direction_name(d.direction));
        w.end_object();
    }

    w.key("netflow");
    w.begin_object();
    w.key("type");
    w.string(options ? "netflow_options" : "netflow_flow");
    w.key("exporter");
    w.begin_object();
    w.key("address");
    char address[64];
    const auto address_end =
        exporter_ip.find(':') == std::string_view::npos
            ? fmt::format_to_n(address, sizeof address, "{}:{}", exporter_ip, r.datagram.src_port)
            : fmt::format_to_n(address, sizeof address, "[{}]:{}", exporter_ip,
                               r.datagram.src_port);
    w.string(std::string_view(address, std::min(address_end.size, sizeof address)));
    w.key("source_id");
    w.unsigned_number(d.observation_domain);
    w.key("version");
    w.number(version_of(d.kind));
    w.key("timestamp");  // the header's own value, even when it is 0
    w.plain_string(timestamp_text(d.export_ns).view());
    if (d.kind != static_cast<uint8_t>(wire::RecordKind::kIpfix)) {
        w.key("uptime_millis");
        w.unsigned_number(d.sys_uptime_ms);
    }
    w.end_object();
    if (d.kind != static_cast<uint8_t>(wire::RecordKind::kNetflowV5)) {
        w.key("template_id");
        w.number(d.template_id);
    }
    if (sampling != 0 && !options) {
        w.key("sampling");
        w.begin_object();
        w.key("interval");
        w.unsigned_number(sampling);
        w.key("algorithm");
        w.number(d.sampling_algorithm);
        w.key("source");
        w.string(result.sampling_overridden ? "config" : "exporter");
        w.key("scaled");
        w.boolean(scaled);
        w.end_object();
    }
    if (r.fields) result.length_mismatches = write_template_fields(w, r);
    w.end_object();
    if (r.annotations) write_tags_and_threats(w, *r.annotations);

    w.key("tapsift");
    w.begin_object();
    if (r.annotations && !r.annotations->rule.empty()) {
        w.key("rule");
        w.string(r.annotations->rule);
    }
    w.key("format");
    w.string(format_name(d.kind));
    w.key("flow_record");
    w.number(r.record_in_datagram);
    if (!r.fields || r.decoded_late) {
        w.key("notes");
        w.string(!r.fields ? "template_replaced_in_batch" : "decoded_after_template_arrived");
    }
    w.end_object();
    w.end_object();
    result.invalid_utf8 = w.had_invalid_utf8();
    return result;
}

}  // namespace tapsift::event
