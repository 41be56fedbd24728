#include "flow/shared_template.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "event/format.hpp"
#include "flow_parse/template_record.hpp"

namespace tapsift::flow {
namespace {

constexpr uint8_t kFlagOptions = 1u << 0;
// NetFlow v9 (RFC 3954) FlowSet IDs 0 and 1; IPFIX (RFC 7011) set IDs 2 and 3.
constexpr uint16_t kV9TemplateSet = 0, kV9OptionsSet = 1, kIpfixTemplateSet = 2,
                   kIpfixOptionsSet = 3;
constexpr uint32_t kV9HeaderBytes = 20, kIpfixHeaderBytes = 16, kSetHeaderBytes = 4;

template <typename T>
void put_le(std::string &out, size_t at, T v) {
    std::memcpy(&out[at], &v, sizeof v);
}
template <typename T>
T get_le(std::string_view in, size_t at) {
    T v;
    std::memcpy(&v, in.data() + at, sizeof v);
    return v;
}
void put_be16(uint8_t *p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put_be32(uint8_t *p, uint32_t v) {
    put_be16(p, static_cast<uint16_t>(v >> 16));
    put_be16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace

std::string shared_template_key(const uint8_t exporter[16], uint32_t domain, uint16_t template_id) {
    return fmt::format("{}/{}/{}", event::address_text(exporter).view(), domain, template_id);
}

std::string encode_shared_template(const SharedTemplate &t) {
    std::string v(kSharedValueHeaderBytes + t.record_len, '\0');
    v[0] = static_cast<char>(kSharedTemplateFormat);
    v[1] = static_cast<char>(t.kind);
    v[2] = static_cast<char>(t.options ? kFlagOptions : 0);
    put_le(v, 4, t.domain);
    put_le(v, 8, t.template_id);
    put_le(v, 10, t.record_len);
    put_le(v, 16, t.learned_ns);
    put_le(v, 24, t.publisher);
    std::memcpy(&v[32], t.exporter, 16);
    std::memcpy(&v[kSharedValueHeaderBytes], t.record.data(), t.record_len);
    return v;
}

const char *to_string(SharedTemplateError e) {
    switch (e) {
        case SharedTemplateError::kNone:
            return "ok";
        case SharedTemplateError::kVersion:
            return "unknown format version";
        case SharedTemplateError::kSize:
            return "bad size";
        case SharedTemplateError::kKind:
            return "neither NetFlow v9 nor IPFIX";
        case SharedTemplateError::kRecord:
            return "not a template definition";
        case SharedTemplateError::kKeyMismatch:
            return "key does not name the template";
    }
    return "?";
}

SharedTemplateError decode_shared_template(std::string_view key, std::string_view value,
                                           SharedTemplate &out) {
    if (value.empty()) return SharedTemplateError::kSize;
    if (static_cast<uint8_t>(value[0]) != kSharedTemplateFormat)
        return SharedTemplateError::kVersion;
    if (value.size() < kSharedValueHeaderBytes || value.size() > kMaxSharedValueBytes)
        return SharedTemplateError::kSize;
    const auto record_len = get_le<uint16_t>(value, 10);
    if (value.size() != kSharedValueHeaderBytes + record_len) return SharedTemplateError::kSize;
    const auto kind = static_cast<wire::RecordKind>(value[1]);
    if (kind != wire::RecordKind::kNetflowV9 && kind != wire::RecordKind::kIpfix)
        return SharedTemplateError::kKind;
    out.kind = kind;
    out.options = static_cast<uint8_t>(value[2]) & kFlagOptions;
    out.domain = get_le<uint32_t>(value, 4);
    out.template_id = get_le<uint16_t>(value, 8);
    out.record_len = record_len;
    out.learned_ns = get_le<int64_t>(value, 16);
    out.publisher = get_le<uint64_t>(value, 24);
    std::memcpy(out.exporter, value.data() + 32, 16);
    std::memcpy(out.record.data(), value.data() + kSharedValueHeaderBytes, record_len);
    // The kernel's own parser: what it will read from the datagram this record goes in.
    wire::FlowTemplate t;
    const hls_kernels::TemplateRecordRead read =
        hls_kernels::read_template_record(out.record.data(), 0, record_len, kind, out.options, t);
    if (read.status != hls_kernels::TemplateRecordStatus::kDefinition || read.bytes != record_len ||
        t.template_id != out.template_id)
        return SharedTemplateError::kRecord;
    if (key != shared_template_key(out.exporter, out.domain, out.template_id))
        return SharedTemplateError::kKeyMismatch;
    return SharedTemplateError::kNone;
}

uint32_t shared_template_datagram(const SharedTemplate &t,
                                  uint8_t (&buf)[kMaxSharedRecordBytes + 24]) {
    std::memset(buf, 0, sizeof buf);
    const bool v9 = t.kind == wire::RecordKind::kNetflowV9;
    const uint32_t header = v9 ? kV9HeaderBytes : kIpfixHeaderBytes;
    const uint32_t set_len = kSetHeaderBytes + t.record_len;
    const uint32_t total = header + set_len;
    const auto secs = static_cast<uint32_t>(t.learned_ns / 1000000000);
    if (v9) {
        put_be16(buf, 9);
        put_be16(buf + 2, 1);  // one record
        put_be32(buf + 8, secs);
        put_be32(buf + 16, t.domain);
    } else {
        put_be16(buf, 10);
        put_be16(buf + 2, static_cast<uint16_t>(total));
        put_be32(buf + 4, secs);
        put_be32(buf + 12, t.domain);
    }
    const uint16_t set_id = v9 ? (t.options ? kV9OptionsSet : kV9TemplateSet)
                               : (t.options ? kIpfixOptionsSet : kIpfixTemplateSet);
    put_be16(buf + header, set_id);
    put_be16(buf + header + 2, static_cast<uint16_t>(set_len));
    std::memcpy(buf + header + kSetHeaderBytes, t.record.data(), t.record_len);
    return total;
}

void write_template_record(const wire::FlowTemplate &def, SharedTemplate &out) {
    const bool ipfix = def.kind == static_cast<uint8_t>(wire::RecordKind::kIpfix);
    const uint16_t count = std::min<uint16_t>(def.field_count, wire::kMaxTemplateFields);
    const uint16_t scope = std::min(def.scope_field_count, count);
    uint8_t *p = out.record.data();
    put_be16(p, def.template_id);
    if (def.options && !ipfix) {  // v9: scope and option lengths in bytes, 4 per field
        put_be16(p + 2, static_cast<uint16_t>(scope * 4));
        put_be16(p + 4, static_cast<uint16_t>((count - scope) * 4));
    } else {
        put_be16(p + 2, count);
        if (def.options) put_be16(p + 4, scope);
    }
    uint32_t at = def.options ? 6 : 4;
    for (uint16_t i = 0; i < count; ++i) {
        const wire::TemplateField &f = def.fields[i];
        const bool enterprise = ipfix && f.pen != 0;
        put_be16(p + at, static_cast<uint16_t>(f.ie | (enterprise ? 0x8000 : 0)));
        put_be16(p + at + 2, f.length);
        at += 4;
        if (enterprise) {
            put_be32(p + at, f.pen);
            at += 4;
        }
    }
    out.kind = static_cast<wire::RecordKind>(def.kind);
    out.options = def.options;
    out.template_id = def.template_id;
    out.record_len = static_cast<uint16_t>(at);
}

bool same_definition(const wire::FlowTemplate &a, const wire::FlowTemplate &b) {
    if (a.kind != b.kind || a.options != b.options || a.field_count != b.field_count ||
        a.scope_field_count != b.scope_field_count)
        return false;
    for (uint16_t i = 0; i < a.field_count; ++i) {
        if (a.fields[i].ie != b.fields[i].ie || a.fields[i].length != b.fields[i].length ||
            a.fields[i].pen != b.fields[i].pen)
            return false;
    }
    return true;
}

}  // namespace tapsift::flow
