// Kernel style: no heap, bounded loops.
#include "template_record.hpp"

#include "big_endian.hpp"
#include "template_store.hpp"
#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {
namespace {

using wire::FlowTemplate;

constexpr uint32_t kMaxFieldSpecs = wire::kMaxPayloadBytes / 4;

// Lengths the IANA types allow, for the IEs the kernel reads. Addresses and 64-bit timestamps
// are exact. Unsigned integers may be shorter (reduced-size encoding, RFC 7011 §6.2) and, as
// some exporters send them, longer, up to the 8 bytes the reader takes. Zero-length fields (seen
// from real exporters) carry nothing and are skipped.
bool length_fits_type(uint32_t ie, uint32_t len) {
    if (len == 0) return true;
    switch (ie) {
        case 8:
        case 12:
        case 15:
        case 18:
        case 225:
        case 226:
            return len == 4;  // IPv4 addresses
        case 27:
        case 28:
        case 62:
        case 63:
            return len == 16;  // IPv6 addresses
        case 152:
        case 153:
        case 154:
        case 155:
        case 156:
        case 157:
            return len == 8;  // dateTimeMilliseconds and the NTP formats
        case 1:
        case 2:
        case 4:
        case 5:
        case 6:
        case 7:
        case 11:
        case 21:
        case 22:
        case 34:
        case 35:
        case 49:
        case 50:
        case 61:
        case 85:
        case 86:
        case 150:
        case 151:
        case 305:
        case 306:
            return len <= 8;
        default:
            return true;
    }
}

constexpr uint32_t kSpecsTruncated = 0xffffffff;

// Reads one template record's field specifiers at p (count of them) into t; returns the bytes
// they take, or kSpecsTruncated when they run past end. Fields past kMaxTemplateFields are
// skipped but measured.
uint32_t read_field_specs(const uint8_t *bytes, uint32_t p, uint32_t end, bool ipfix,
                          uint32_t count, uint32_t scope, FlowTemplate &t, bool &length_mismatch,
                          uint32_t &zero_length_fields) {
    const uint32_t start = p;
    uint32_t fixed = 0;
    uint32_t variable = 0;
    for (uint32_t i = 0; i < kMaxFieldSpecs; ++i) {
        if (i >= count) break;
        if (end - p < 4) return kSpecsTruncated;
        uint32_t ie = be16(&bytes[p]);
        const uint32_t len = be16(&bytes[p + 2]);
        uint32_t pen = 0;
        p += 4;
        if (ipfix && (ie & 0x8000)) {
            if (end - p < 4) return kSpecsTruncated;
            pen = be32(&bytes[p]);
            ie &= 0x7fff;
            p += 4;
        } else if (!ipfix && i < scope) {  // v9 scope types (system, interface...) are not IEs
            pen = wire::kNetflowV9ScopePen;
        }
        if (len == wire::kVariableLength) {
            variable++;
        } else {
            fixed += len;
            zero_length_fields += len == 0;
            if (pen == 0 && !length_fits_type(ie, len)) length_mismatch = true;
        }
        if (i < wire::kMaxTemplateFields) {
            t.fields[i].ie = static_cast<uint16_t>(ie);
            t.fields[i].length = static_cast<uint16_t>(len);
            t.fields[i].pen = pen;
        }
    }
    t.variable = variable > 0;
    const uint32_t min_record = fixed + variable;
    t.min_record_bytes = static_cast<uint16_t>(min_record > 0xffff ? 0xffff : min_record);
    if (fixed > wire::kMaxPayloadBytes) t.min_record_bytes = 0xffff;
    return p - start;
}

}  // namespace

TemplateRecordRead read_template_record(const uint8_t *payload, uint32_t at, uint32_t end,
                                        wire::RecordKind kind, bool options, FlowTemplate &t) {
    const bool ipfix = kind == wire::RecordKind::kIpfix;
    TemplateRecordRead r{TemplateRecordStatus::kEnd, TemplateRejected::kCount, 0, 0};
    t = FlowTemplate{};
    if (end < at || end - at < 4) return r;  // padding
    t.template_id = static_cast<uint16_t>(be16(&payload[at]));
    t.kind = static_cast<uint8_t>(kind);
    t.options = options;
    uint32_t count = be16(&payload[at + 2]);
    if (ipfix && count == 0) {  // RFC 7011 §8.1: a template withdrawal (4 bytes)
        r.status = TemplateRecordStatus::kWithdrawal;
        r.bytes = 4;
        return r;
    }
    // Template record headers: 4 bytes (ID, field count); options add a third 16-bit word.
    const uint32_t header_bytes = options ? 6 : 4;
    if (end - at < header_bytes) return r;  // padding
    uint32_t scope = 0;
    if (options && ipfix) {
        scope = be16(&payload[at + 4]);
    } else if (options) {  // v9: scope and option lengths in bytes, 4 per field
        scope = count / 4;
        count = scope + be16(&payload[at + 4]) / 4;
    }
    r.field_specs = count;
    bool length_mismatch = false;
    uint32_t zero_length_fields = 0;
    const uint32_t used = read_field_specs(payload, at + header_bytes, end, ipfix, count, scope, t,
                                           length_mismatch, zero_length_fields);
    if (used == kSpecsTruncated) {
        r.status = TemplateRecordStatus::kTruncated;
        r.why = TemplateRejected::kTruncated;
        return r;
    }
    r.bytes = header_bytes + used;
    t.field_count = static_cast<uint16_t>(count);
    t.scope_field_count = static_cast<uint16_t>(scope);
    r.status = TemplateRecordStatus::kRejected;
    if (t.template_id < 256) {
        r.why = TemplateRejected::kReservedId;
    } else if (count == 0) {
        r.why = TemplateRejected::kNoFields;
    } else if (count > wire::kMaxTemplateFields) {
        r.why = TemplateRejected::kTooManyFields;
    } else if (t.min_record_bytes == 0 || zero_length_fields > t.min_record_bytes) {
        // Mostly zero-length fields: records of a byte or two that each cost a walk over the
        // whole field list (some exporters send a few; a flood sends hundreds).
        r.why = TemplateRejected::kZeroLength;
    } else if (t.min_record_bytes + wire::kIpfixHeaderBytes + 4 > wire::kMaxPayloadBytes) {
        r.why = TemplateRejected::kRecordTooLong;
    } else if (length_mismatch) {
        r.why = TemplateRejected::kLengthMismatch;
    } else {
        r.status = TemplateRecordStatus::kDefinition;
        template_locate_core(t);
    }
    return r;
}

}  // namespace tapsift::hls_kernels
